"""Rule services: validation of each kind, floors, stale saves and the audit trail."""

import pytest
from django.core.exceptions import ValidationError

from kernel.errors import ApplicationError
from kernel.uploads import ImageUpload
from policy_admin.models import AuditEvent, CategoryThreshold, ConceptImage
from policy_admin.services import concepts, policies, rules
from policy_admin.services.drafts import StaleDraftError
from tests.images import png_bytes
from tests.policy_admin.factories import (
    ClipConceptFactory,
    FloorCategoryFactory,
    KeywordRuleSetFactory,
)

pytestmark = pytest.mark.django_db


def test_policy_create_is_audited(tenant, editor):
    policy = policies.policy_create(tenant=tenant, actor=editor, name="Kids app", slug="kids-app")
    event = AuditEvent.objects.get(policy=policy)
    assert (event.actor_name, event.verb, event.target_name) == (
        "acme-editor",
        "create",
        "Kids app",
    )


def test_policy_slug_is_unique_per_tenant_only(tenant, other_tenant, editor):
    policies.policy_create(tenant=tenant, actor=editor, name="Default", slug="default")
    policies.policy_create(tenant=other_tenant, actor=editor, name="Default", slug="default")
    with pytest.raises(ApplicationError, match="already has a policy"):
        policies.policy_create(tenant=tenant, actor=editor, name="Again", slug="default")


def test_threshold_save_bumps_revision_and_audits_the_change(policy, editor):
    threshold = rules.threshold_save(
        policy=policy,
        actor=editor,
        revision=1,
        category="violence",
        applies_to="both",
        review_at=0.5,
        block_at=0.8,
    )
    rules.threshold_save(policy=policy, actor=editor, revision=2, threshold=threshold, block_at=0.7)
    policy.refresh_from_db()
    assert policy.revision == 3
    event = AuditEvent.objects.filter(policy=policy).first()
    assert event.before == {"block_at": 0.8}
    assert event.after == {"block_at": 0.7}
    assert "block at 0.8 → 0.7" in event.summary


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"category": "cooking"}, "Unknown category"),
        ({"category": "harassment", "applies_to": "image"}, "scored on prompts only"),
        ({"review_at": 0.9, "block_at": 0.5}, "Review must not be above block"),
        ({"review_at": -0.1}, "greater than or equal to 0"),
        ({"block_at": 1.5}, "less than or equal to 1"),
    ],
)
def test_invalid_thresholds_are_refused(policy, editor, fields, message):
    values = {"category": "violence", "applies_to": "both", "review_at": 0.5, "block_at": 0.8}
    with pytest.raises((ApplicationError, ValidationError), match=message):
        rules.threshold_save(policy=policy, actor=editor, revision=1, **{**values, **fields})
    assert not CategoryThreshold.objects.exists()


def test_stale_save_is_refused_naming_who_changed_what(policy, editor, admin):
    rules.threshold_save(
        policy=policy,
        actor=admin,
        revision=1,
        category="violence",
        applies_to="both",
        review_at=0.5,
        block_at=0.8,
    )
    with pytest.raises(StaleDraftError) as refused:
        rules.threshold_save(
            policy=policy,
            actor=editor,
            revision=1,
            category="gore",
            applies_to="both",
            review_at=0.5,
            block_at=0.8,
        )
    message = refused.value.message
    assert "you had revision 1, it is now 2" in message
    assert "acme-admin created category threshold “violence (both)”" in message
    assert CategoryThreshold.objects.count() == 1


def test_loosening_the_floor_is_refused_naming_rule_and_floor(policy, editor):
    FloorCategoryFactory(category="sexual/minors", review_at=0.1, block_at=0.3)
    with pytest.raises(ApplicationError) as refused:
        rules.threshold_save(
            policy=policy,
            actor=editor,
            revision=1,
            category="sexual/minors",
            applies_to="image",
            review_at=0.1,
            block_at=0.9,
        )
    assert "sexual/minors" in refused.value.message
    assert "block at 0.9 is looser than the platform floor's 0.3" in refused.value.message


def test_tightening_the_floor_is_allowed(policy, editor):
    FloorCategoryFactory(category="sexual/minors", review_at=0.1, block_at=0.3)
    saved = rules.threshold_save(
        policy=policy,
        actor=editor,
        revision=1,
        category="sexual/minors",
        applies_to="both",
        review_at=0.05,
        block_at=0.2,
    )
    assert saved.block_at == 0.2


def test_disabling_a_floored_category_is_refused(policy, editor):
    FloorCategoryFactory(category="sexual/minors")
    with pytest.raises(ApplicationError, match="cannot be disabled"):
        rules.threshold_save(
            policy=policy,
            actor=editor,
            revision=1,
            category="sexual/minors",
            applies_to="both",
            review_at=0.1,
            block_at=0.3,
            enabled=False,
        )


def test_keyword_import_dedupes_and_reports_problems(policy, editor):
    keyword_set = KeywordRuleSetFactory(policy=policy, terms="gore", term_count=1)
    lines = [
        (1, "Gore"),
        (2, "  beheading "),
        (3, ""),
        (4, "   "),
        (5, "bad\x07term"),
        (6, "x" * 201),
        (7, "zero\u200bwidth"),
        (8, "beheading"),
        (9, "dismember"),
    ]
    report = rules.keyword_terms_import(
        keyword_set=keyword_set, actor=editor, revision=1, lines=lines
    )
    assert report.terms == ["gore", "beheading", "dismember"]
    assert report.duplicates == 2
    reasons = {p.line: p.reason for p in report.problems}
    assert reasons == {
        3: "empty term",
        4: "whitespace only",
        5: "control character",
        6: "longer than 200 characters",
        7: "invisible formatting character (zero-width or direction mark)",
    }
    keyword_set.refresh_from_db()
    assert keyword_set.term_count == 3
    event = AuditEvent.objects.filter(verb="import").get()
    assert "imported 2 terms" in event.summary
    assert "2 duplicates removed, 5 lines refused" in event.summary


def test_embedding_set_needs_an_example(policy, editor):
    with pytest.raises(ApplicationError, match="at least one example"):
        rules.embedding_set_save(
            policy=policy, actor=editor, revision=1, name="Violence", examples=["  ", ""]
        )


def test_concept_images_all_or_nothing(policy, editor):
    concept = ClipConceptFactory(policy=policy)
    uploads = [ImageUpload("a.png", png_bytes()), ImageUpload("notes.txt", b"hello")]
    with pytest.raises(ApplicationError, match="notes.txt"):
        concepts.concept_images_add(concept=concept, actor=editor, revision=1, uploads=uploads)
    assert not ConceptImage.objects.exists()


def test_concept_images_are_stored_with_their_hash(policy, editor, media):
    concept = ClipConceptFactory(policy=policy)
    uploads = [ImageUpload(f"{i}.png", png_bytes((i * 40, 0, 0))) for i in range(3)]
    images = concepts.concept_images_add(concept=concept, actor=editor, revision=1, uploads=uploads)
    assert [i.width for i in images] == [8, 8, 8]
    assert len({i.sha256 for i in images}) == 3
    with pytest.raises(ApplicationError, match="already an example"):
        concepts.concept_images_add(
            concept=concept,
            actor=editor,
            revision=2,
            uploads=[ImageUpload("again.png", uploads[0].data)],
        )


def test_keyword_import_folds_terms_with_the_sets_own_options(policy, editor):
    keyword_set = KeywordRuleSetFactory(policy=policy, terms="sex", term_count=1)
    lines = [(1, "$ex"), (2, "5 "), (3, "s.e.x"), (4, "ok"), (5, "ass"), (6, "X")]
    report = rules.keyword_terms_import(
        keyword_set=keyword_set, actor=editor, revision=1, lines=lines
    )
    # "$ex" and "s.e.x" fold to "sex": duplicates; a two-letter term stays allowed, and
    # so does a letter typed as itself (only a term that folds INTO one letter is refused).
    assert report.terms == ["sex", "ok", "ass", "X"]
    assert report.duplicates == 2
    (problem,) = report.problems
    assert problem.line == 2
    assert "folds to a single letter \u201cs\u201d" in problem.reason


def test_keyword_import_keeps_terms_distinct_without_leetspeak(policy, editor):
    keyword_set = KeywordRuleSetFactory(policy=policy, terms="sex", term_count=1, leetspeak=False)
    report = rules.keyword_terms_import(
        keyword_set=keyword_set, actor=editor, revision=1, lines=[(1, "$ex")]
    )
    assert report.terms == ["sex", "$ex"]
    assert report.duplicates == 0
