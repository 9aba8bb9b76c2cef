"""Policy as code: conditional rules export, import and round-trip; problems name their path."""

import pytest
import yaml

from policy_admin.models import ConditionalRule
from policy_admin.policy_yaml.problems import PolicyYamlError
from policy_admin.services import conditions, policy_yaml, rules
from tests.policy_admin.factories import FloorCategoryFactory, PolicyFactory

pytestmark = pytest.mark.django_db
LOWER = [{"category": "nudity", "review_at": 0.2, "block_at": 0.3}]


def draft_with_conditions(policy, actor):
    save = {"policy": policy, "actor": actor}
    minors, _ = rules.keyword_set_save(
        **save, revision=1, name="Minors", terms=list(enumerate(["schoolgirl"], 1))
    )
    threats = rules.embedding_set_save(**save, revision=2, name="Young", examples=["a child"])
    conditions.condition_save(
        **save, revision=3, name="By keyword", when="keyword_set", keyword_set=minors,
        image_thresholds=LOWER,
    )  # fmt: skip
    conditions.condition_save(
        **save, revision=4, name="By embedding", when="embedding_set", embedding_set=threats,
        image_thresholds=[*LOWER, {"category": "sexual", "review_at": 0.1, "block_at": 0.2}],
    )  # fmt: skip
    conditions.condition_save(
        **save, revision=5, name="By score", when="category", category="sexual/minors",
        at_least=0.3, image_thresholds=LOWER, enabled=False,
    )  # fmt: skip
    policy.refresh_from_db()
    return policy


def test_conditions_round_trip_by_set_name(tenant, policy, editor):
    text = policy_yaml.policy_export(draft_with_conditions(policy, editor))
    parsed = yaml.safe_load(text)["rules"]["conditions"]
    assert [c["name"] for c in parsed] == ["By embedding", "By keyword", "By score"]
    assert parsed[1] == {
        "name": "By keyword", "when": "keyword_set", "keyword_set": "Minors",
        "image_thresholds": LOWER, "enabled": True,
    }  # fmt: skip
    assert parsed[2]["category"] == "sexual/minors"
    assert parsed[2]["at_least"] == 0.3
    copy = PolicyFactory(tenant=tenant, slug="copy", created_by=editor)
    result = policy_yaml.policy_import(policy=copy, actor=editor, revision=1, text=text)
    assert result.counts["conditions"] == 3
    assert "3 conditional rules" in result.summary
    assert policy_yaml.policy_export(copy) == text
    imported = ConditionalRule.objects.get(policy=copy, name="By keyword")
    assert imported.keyword_set.policy == copy


def test_a_policy_without_conditions_exports_no_conditions_key(policy, editor):
    rules.threshold_save(
        policy=policy, actor=editor, revision=1, category="violence", applies_to="both",
        review_at=0.5, block_at=0.8,
    )  # fmt: skip
    assert "conditions" not in yaml.safe_load(policy_yaml.policy_export(policy))["rules"]


def test_reimport_replaces_conditions_and_the_sets_they_read(policy, editor):
    text = policy_yaml.policy_export(draft_with_conditions(policy, editor))
    policy.refresh_from_db()
    policy_yaml.policy_import(policy=policy, actor=editor, revision=policy.revision, text=text)
    assert ConditionalRule.objects.filter(policy=policy).count() == 3


BAD = """
version: 1
policy: {name: P}
rules:
  keywords: [{name: Minors, terms: [schoolgirl]}]
  conditions:
    - {name: A, when: keyword_set, keyword_set: Nope, image_thresholds: [{category: nudity, review_at: 0.2, block_at: 0.3}]}
    - {name: B, when: category, category: nudity, image_thresholds: [{category: nudity, review_at: 0.2, block_at: 0.3}]}
    - {name: C, when: category, category: nudity, at_least: 0.5, image_thresholds: [{category: nudity, review_at: 0.5, block_at: 0.3}]}
    - {name: D, when: category, category: nudity, at_least: 0.5, image_thresholds: [{category: nudity, review_at: 0.3, block_at: 0.5}]}
    - {name: E, image_thresholds: []}
"""  # noqa: E501


def test_every_problem_of_the_conditions_is_named_with_its_path(tenant, editor):
    FloorCategoryFactory(category="nudity", applies_to="both", review_at=0.2, block_at=0.4)
    with pytest.raises(PolicyYamlError) as refused:
        policy_yaml.policy_create_from_yaml(tenant=tenant, actor=editor, slug="new", text=BAD)
    problems = {}
    for p in refused.value.extra["problems"]:
        problems[p["path"]] = " ".join(filter(None, (problems.get(p["path"]), p["message"])))
    assert problems["rules.conditions[0].keyword_set"] == (
        "“Nope” is not the name of an entry of rules.keywords in this file"
    )
    assert problems["rules.conditions[1].at_least"].startswith("missing")
    assert "review at 0.5 is above block at 0.3" in problems["rules.conditions[2].image_thresholds"]
    assert (
        "looser than the platform floor's 0.2" in problems["rules.conditions[3].image_thresholds"]
    )
    assert problems["rules.conditions[4].when"].startswith("missing; say which signal")
    assert not ConditionalRule.objects.exists()
