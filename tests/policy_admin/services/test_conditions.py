"""Conditional rules: saved with their signal, checked against the catalogue and the floor."""

import pytest

from kernel.errors import ApplicationError, ConflictError
from policy_admin.models import AuditEvent, ConditionalRule
from policy_admin.services import conditions, rules
from tests.policy_admin.factories import (
    EmbeddingRuleSetFactory,
    FloorCategoryFactory,
    KeywordRuleSetFactory,
    PolicyFactory,
)

pytestmark = pytest.mark.django_db

LOWER = [{"category": "nudity", "review_at": 0.2, "block_at": 0.3}]


def save(policy, editor, **fields):
    fields.setdefault("name", "Minor signal")
    fields.setdefault("image_thresholds", LOWER)
    return conditions.condition_save(
        policy=policy, actor=editor, revision=policy.revision, **fields
    )


def test_a_keyword_condition_is_saved_and_audited(policy, editor):
    minors = KeywordRuleSetFactory(policy=policy, name="Minors")
    condition = save(policy, editor, when="keyword_set", keyword_set=minors)
    assert (condition.keyword_set, condition.image_thresholds) == (minors, LOWER)
    event = AuditEvent.objects.get(policy=policy, verb="create")
    assert event.summary == "added conditional rule Minor signal"
    assert policy.revision == 2


def test_switching_the_signal_clears_the_other_kind(policy, editor):
    minors = EmbeddingRuleSetFactory(policy=policy)
    condition = save(policy, editor, when="embedding_set", embedding_set=minors)
    changed = save(
        policy, editor, condition=condition, when="category", category="nudity", at_least=0.6
    )
    assert (changed.embedding_set, changed.category, changed.at_least) == (None, "nudity", 0.6)


def test_a_set_of_another_policy_is_refused(tenant, policy, editor):
    theirs = KeywordRuleSetFactory(policy=PolicyFactory(tenant=tenant, slug="other"))
    with pytest.raises(ApplicationError, match="not one of this policy's"):
        save(policy, editor, when="keyword_set", keyword_set=theirs)
    assert not ConditionalRule.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"when": "keyword_set"}, "Choose the keyword set"),
        ({"when": "category", "category": "nudity"}, "Say which prompt score"),
        ({"when": "category", "category": "nope", "at_least": 0.5}, "not a category scored on"),
        ({"when": "regex"}, "Unknown condition “regex”"),
        (
            {"when": "category", "category": "nudity", "at_least": 0.5, "image_thresholds": []},
            "at least one image threshold",
        ),
        (
            {
                "when": "category", "category": "nudity", "at_least": 0.5,
                "image_thresholds": [{"category": "nudity", "review_at": 0.5, "block_at": 0.4}],
            },
            "review at 0.5 is above block at 0.4",
        ),
        (
            {
                "when": "category", "category": "nudity", "at_least": 0.5,
                "image_thresholds": [{"category": "harassment", "review_at": 0.1, "block_at": 0.4}],
            },
            "scored on prompts only",
        ),
    ],
)  # fmt: skip
def test_bad_conditions_are_refused_with_what_to_fix(policy, editor, fields, message):
    with pytest.raises(ApplicationError, match=message):
        save(policy, editor, **fields)


def test_a_threshold_looser_than_the_floor_is_refused_naming_category_and_floor(policy, editor):
    FloorCategoryFactory(category="nudity", applies_to="image", review_at=0.3, block_at=0.6)
    loose = [{"category": "nudity", "review_at": 0.4, "block_at": 0.5}]
    with pytest.raises(ApplicationError) as refused:
        save(policy, editor, when="category", category="nudity", at_least=0.5,
             image_thresholds=loose)  # fmt: skip
    assert refused.value.message == (
        "Image nudity (images): review at 0.4 is looser than the platform floor's 0.3. "
        "A policy may tighten the floor, never loosen it."
    )
    tight = [{"category": "nudity", "review_at": 0.3, "block_at": 0.5}]
    save(policy, editor, when="category", category="nudity", at_least=0.5, image_thresholds=tight)


def test_a_set_a_condition_reads_cannot_be_deleted(policy, editor):
    minors = KeywordRuleSetFactory(policy=policy, name="Minors")
    save(policy, editor, when="keyword_set", keyword_set=minors)
    with pytest.raises(ConflictError, match="read by the conditional rule"):
        rules.keyword_set_delete(keyword_set=minors, actor=editor, revision=policy.revision)
    assert type(minors).objects.filter(pk=minors.pk).exists()
    assert not AuditEvent.objects.filter(verb="delete").exists()


def test_delete_is_audited(policy, editor):
    condition = save(policy, editor, when="category", category="nudity", at_least=0.5)
    conditions.condition_delete(condition=condition, actor=editor, revision=policy.revision)
    assert not ConditionalRule.objects.exists()
    assert AuditEvent.objects.filter(verb="delete", target_type="conditional rule").exists()


def test_deleting_the_policy_takes_its_conditions_and_sets_with_it(policy, editor):
    from policy_admin.services import policies

    minors = KeywordRuleSetFactory(policy=policy, name="Minors")
    save(policy, editor, when="keyword_set", keyword_set=minors)
    policies.policy_delete(policy=policy, actor=editor, revision=policy.revision)
    assert not ConditionalRule.objects.exists()
    assert not type(minors).objects.filter(pk=minors.pk).exists()


def test_deleting_the_tenant_takes_its_conditions_too(tenant, policy, editor):
    minors = KeywordRuleSetFactory(policy=policy, name="Minors")
    save(policy, editor, when="keyword_set", keyword_set=minors)
    tenant.delete()
    assert not ConditionalRule.objects.exists()
