"""Policy as code: round trip, every problem with its path, safe loading, limits, no half-writes."""

import io
import zipfile

import pytest
import yaml

from kernel.uploads import ImageUpload
from policy_admin.models import AuditEvent, CategoryThreshold, ConceptImage, Policy
from policy_admin.policy_yaml import document
from policy_admin.policy_yaml.problems import PolicyYamlError
from policy_admin.services import concepts, policy_yaml, rules
from policy_admin.services.drafts import StaleDraftError
from tests.images import png_bytes
from tests.policy_admin.factories import (
    FloorCategoryFactory,
    PolicyFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def full_draft(policy, actor):
    """A draft with every rule kind, options, allow lists, and positive and negative images."""
    save = {"policy": policy, "actor": actor}
    rules.threshold_save(
        **save, revision=1, category="violence", applies_to="both", review_at=0.5, block_at=0.8
    )
    rules.threshold_save(
        **save, revision=2, category="hate", applies_to="prompt", review_at=0.3, block_at=0.6
    )
    rules.keyword_set_save(
        **save,
        revision=3,
        name="Slurs",
        mode="substring",
        leetspeak=False,
        terms=list(enumerate(["yes", "no", "Ünïcödé", "two words", "123"], 1)),
        allow_list=["scunthorpe"],
        languages="en, de",
        notes="From the client's list.",
    )
    rules.embedding_set_save(
        **save, revision=4, name="Threats", examples=["I will hurt you"], counter_examples=["fun"]
    )
    concept = concepts.concept_save(**save, revision=5, name="Logo", text_hints=["a red logo"])
    concepts.concept_images_add(
        concept=concept,
        actor=actor,
        revision=6,
        uploads=[ImageUpload("a.png", png_bytes((255, 0, 0))), ImageUpload("b.png", png_bytes())],
    )
    concepts.concept_images_add(
        concept=concept,
        actor=actor,
        revision=7,
        uploads=[ImageUpload("n.png", png_bytes((0, 0, 0)))],
        positive=False,
    )
    policy.refresh_from_db()
    return policy


def test_round_trip_with_every_rule_kind_and_images_is_identical(tenant, policy, editor):
    first = policy_yaml.policy_export(full_draft(policy, editor))
    copy = PolicyFactory(tenant=tenant, slug="copy", created_by=editor)
    result = policy_yaml.policy_import(policy=copy, actor=editor, revision=1, text=first)
    assert policy_yaml.policy_export(copy) == first
    assert result.counts == {
        "conditions": 0,
        "thresholds": 2,
        "keywords": 1,
        "embeddings": 1,
        "concepts": 1,
        "terms": 5,
        "images": 3,
        "classifiers": 0,
    }
    parsed = yaml.safe_load(first)
    assert parsed["version"] == 1
    assert parsed["rules"]["keywords"][0]["terms"] == ["yes", "no", "Ünïcödé", "two words", "123"]
    images = parsed["rules"]["concepts"][0]["images"]
    assert [(i["filename"], i["polarity"]) for i in images] == [
        ("a.png", "positive"),
        ("b.png", "positive"),
        ("n.png", "negative"),
    ]


def test_import_is_one_audited_event_and_bumps_the_revision(tenant, policy, editor):
    text = policy_yaml.policy_export(full_draft(policy, editor))
    copy = PolicyFactory(tenant=tenant, slug="copy", created_by=editor)
    policy_yaml.policy_import(policy=copy, actor=editor, revision=1, text=text)
    events = AuditEvent.objects.filter(policy=copy)
    assert [e.verb for e in events] == ["import"]
    assert "2 thresholds" in events[0].summary
    copy.refresh_from_db()
    assert copy.revision == 2


def test_images_travel_in_a_zip_to_another_tenant(policy, editor, other_tenant, outsider):
    text = policy_yaml.policy_export(full_draft(policy, editor))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for image in ConceptImage.objects.filter(concept__policy=policy):
            z.writestr(f"images/{image.original_name}", image.image.read())
    theirs = PolicyFactory(tenant=other_tenant, slug="default", created_by=outsider)
    policy_yaml.policy_import(
        policy=theirs, actor=outsider, revision=1, text=text, images_zip=archive.getvalue()
    )
    assert ConceptImage.objects.filter(tenant=other_tenant).count() == 3


def test_images_of_another_tenant_are_not_found_by_reference(policy, editor, other_tenant):
    text = policy_yaml.policy_export(full_draft(policy, editor))
    theirs = PolicyFactory(tenant=other_tenant, slug="default")
    with pytest.raises(PolicyYamlError) as refused:
        policy_yaml.policy_import(policy=theirs, actor=editor, revision=1, text=text)
    paths = [p["path"] for p in refused.value.extra["problems"]]
    assert paths == [f"rules.concepts[0].images[{n}].sha256" for n in range(3)]


def problems_of(policy, editor, text, **kwargs) -> list[str]:
    with pytest.raises(PolicyYamlError) as refused:
        policy_yaml.policy_import(policy=policy, actor=editor, revision=1, text=text, **kwargs)
    return [f"{p['path']}: {p['message']}" for p in refused.value.extra["problems"]]


def test_syntax_error_names_the_line(policy, editor):
    text = "version: 1\npolicy:\n  name: [unclosed\nrules: {}\n"
    [problem] = problems_of(policy, editor, text)
    assert "line 4" in problem or "line 3" in problem
    assert "syntax error" in problem


def test_python_tags_are_refused(policy, editor):
    text = "version: 1\npolicy: !!python/object/apply:os.system ['echo hi']\nrules: {}\n"
    [problem] = problems_of(policy, editor, text)
    assert "!!python/object/apply:os.system is not allowed" in problem
    assert "line 2" in problem


def test_every_problem_is_collected_with_its_path(policy, editor):
    text = """
version: 1
policy: {name: Default, colour: red}
rules:
  thresholds:
    - {category: violence, review_at: 0.9, block_at: 0.5}
    - {category: unicorns, review_at: 0.1, block_at: 0.2}
    - {category: gore, review_at: "high", block_at: 1.5}
  keywords:
    - name: Slurs
      terms: [ok, "", "   ", 17, "tab\\u0007bell"]
      options: {mode: fuzzy}
  embeddings:
    - {name: Threats}
  concepts:
    - {name: Logo, images: [{sha256: nothex, filename: a.png}]}
"""
    problems = problems_of(policy, editor, text)
    expected = [
        "policy.colour: unknown field",
        "rules.thresholds[0]: review at 0.9 is above block at 0.5",
        "rules.thresholds[1]: Unknown category “unicorns”",
        "rules.thresholds[2].review_at: expected a number, got a string",
        "rules.thresholds[2].block_at: 1.5 is out of range",
        "rules.keywords[0].terms[3]: expected a string, got an integer",
        "rules.keywords[0].options.mode: 'fuzzy' is not one of",
        "rules.keywords[0].terms[1]: empty term",
        "rules.keywords[0].terms[2]: whitespace only",
        "rules.keywords[0].terms[4]: control character",
        "rules.embeddings[0].examples: missing",
        "rules.concepts[0].images[0].sha256: not a sha256",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected)


def test_wrong_types_at_the_top_are_reported(policy, editor):
    problems = problems_of(policy, editor, "version: one\npolicy: []\nrules:\n  keywords: {}\n")
    assert problems == [
        "version: expected a whole number, got a string",
        "policy: expected a mapping (key: value lines), got a list",
        "rules.keywords: expected a list, got a mapping",
    ]


def test_floor_loosening_is_refused_naming_rule_and_floor(policy, editor):
    FloorCategoryFactory(category="sexual/minors", review_at=0.1, block_at=0.3)
    text = """
version: 1
policy: {name: Default}
rules:
  thresholds:
    - {category: sexual/minors, review_at: 0.1, block_at: 0.9}
"""
    [problem] = problems_of(policy, editor, text)
    assert problem.startswith("rules.thresholds[0]: sexual/minors")
    assert "looser than the platform floor's 0.3" in problem


def test_oversized_yaml_is_refused(policy, editor, monkeypatch):
    monkeypatch.setattr(document, "MAX_YAML_BYTES", 1000)
    [problem] = problems_of(policy, editor, "version: 1\n# " + "x" * 2000)
    assert "may be at most" in problem


def test_too_many_terms_in_one_set_is_refused(policy, editor):
    terms = "\n".join(f"      - t{n}" for n in range(200_001))
    head = "version: 1\npolicy: {name: D}\nrules:\n  keywords:\n  - name: Big\n    terms:\n"
    text = head + terms + "\n"
    problems = problems_of(policy, editor, text)
    assert problems == ["rules.keywords[0].terms: 200,001 entries; at most 200,000 allowed"]


@pytest.mark.parametrize("name", ["../evil.png", "/etc/passwd", "a/../../b.png"])
def test_zip_path_traversal_is_refused(policy, editor, name):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(name, png_bytes())
    text = "version: 1\npolicy: {name: D}\nrules: {}\n"
    problems = problems_of(policy, editor, text, images_zip=archive.getvalue())
    assert problems == [f"zip:{name}: a path outside the archive (absolute or with ..); refused"]


def test_zip_bomb_is_refused(policy, editor):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb.png", b"\0" * 5_000_000)
    text = "version: 1\npolicy: {name: D}\nrules: {}\n"
    [problem] = problems_of(policy, editor, text, images_zip=archive.getvalue())
    assert "zip bomb" in problem


def test_nothing_is_half_written_on_any_refusal(policy, editor):
    full_draft(policy, editor)
    before = policy_yaml.policy_export(policy)
    revision = policy.revision
    good = before.replace("name: Default", "name: Changed")
    bad = before.replace("review_at: 0.5", "review_at: 0.95")
    with pytest.raises(PolicyYamlError):
        policy_yaml.policy_import(policy=policy, actor=editor, revision=revision, text=bad)
    with pytest.raises(StaleDraftError):
        policy_yaml.policy_import(policy=policy, actor=editor, revision=revision - 1, text=good)
    policy.refresh_from_db()
    assert policy.revision == revision
    assert policy_yaml.policy_export(policy) == before
    assert not AuditEvent.objects.filter(policy=policy, verb="import").exists()


def test_import_replaces_rules_and_renames(policy, editor):
    full_draft(policy, editor)
    text = (
        "version: 1\npolicy: {name: Renamed}\nrules:\n  thresholds:\n"
        "  - {category: gore, review_at: 0.2, block_at: 0.4}\n"
    )
    policy_yaml.policy_import(policy=policy, actor=editor, revision=policy.revision, text=text)
    policy.refresh_from_db()
    assert policy.name == "Renamed"
    assert list(CategoryThreshold.objects.filter(policy=policy).values_list("category")) == [
        ("gore",)
    ]
    assert not ConceptImage.objects.filter(concept__policy=policy).exists()


def test_create_from_yaml_is_all_or_nothing(tenant, editor):
    with pytest.raises(PolicyYamlError):
        policy_yaml.policy_create_from_yaml(
            tenant=tenant, actor=editor, slug="new", text="version: 1\npolicy: {}\nrules: {}\n"
        )
    assert not Policy.objects.filter(slug="new").exists()
    result = policy_yaml.policy_create_from_yaml(
        tenant=tenant, actor=editor, slug="new", text="version: 1\npolicy: {name: New}\nrules: {}\n"
    )
    assert (result.policy.name, result.policy.revision) == ("New", 2)


def test_terms_that_fold_into_one_another_are_reported_naming_both(policy, editor):
    text = """
version: 1
policy: {name: Default}
rules:
  keywords:
    - name: Slurs
      terms: [naked, gore, "n@ked", "5", GORE]
"""
    problems = problems_of(policy, editor, text)
    assert problems == [
        "rules.keywords[0].terms[3]: \u201c5\u201d folds to a single letter \u201cs\u201d with "
        "this set's options; a one-letter term would match almost every text. Remove it or "
        "write it out.",
        "rules.keywords[0].terms[2]: \u201cn@ked\u201d reads as \u201cnaked\u201d "
        "(rules.keywords[0].terms[0]) with this set's match options; remove one of them",
        "rules.keywords[0].terms[4]: \u201cGORE\u201d reads as \u201cgore\u201d "
        "(rules.keywords[0].terms[1]) with this set's match options; remove one of them",
    ]


def test_terms_stay_distinct_when_the_set_does_not_fold_them(policy, editor):
    text = """
version: 1
policy: {name: Default}
rules:
  keywords:
    - name: Slurs
      options: {leetspeak: false, leet_symbols: false, casefold: false}
      terms: [naked, "n@ked", GORE, gore]
"""
    policy_yaml.policy_import(policy=policy, actor=editor, revision=1, text=text)
    assert policy.keyword_sets.get().term_list() == ["naked", "n@ked", "GORE", "gore"]


def test_the_failure_mode_travels_in_the_yaml_and_defaults_to_closed(tenant, policy, editor):
    policy.failure_mode = Policy.FailureMode.OPEN
    policy.save(update_fields=["failure_mode"])
    text = policy_yaml.policy_export(policy)
    assert yaml.safe_load(text)["policy"]["failure_mode"] == "open"
    copy = PolicyFactory(tenant=tenant, name="Copy", slug="copy")
    policy_yaml.policy_import(policy=copy, actor=editor, revision=1, text=text)
    copy.refresh_from_db()
    assert copy.failure_mode == "open"
    without = yaml.safe_load(text)
    del without["policy"]["failure_mode"]
    copy.refresh_from_db()
    policy_yaml.policy_import(
        policy=copy, actor=editor, revision=copy.revision, text=yaml.safe_dump(without)
    )
    copy.refresh_from_db()
    assert copy.failure_mode == "closed"


def test_an_unknown_failure_mode_is_a_problem_with_its_path(policy, editor):
    text = policy_yaml.policy_export(policy).replace("failure_mode: closed", "failure_mode: maybe")
    with pytest.raises(PolicyYamlError) as error:
        policy_yaml.policy_import(policy=policy, actor=editor, revision=1, text=text)
    assert "policy.failure_mode" in str(error.value.problems[0])
