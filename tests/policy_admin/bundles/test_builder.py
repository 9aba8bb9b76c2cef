"""The bundle builder: the draft as published, with the floor merged, deterministic."""

import pytest

from kernel import registry
from kernel.errors import ApplicationError
from moderation.engine.bundle import Bundle, Sampling
from moderation.engine.evaluate import evaluate
from policy_admin.bundles.builder import bundle_build
from policy_admin.models import DecisionSampling, FloorKeywordSet
from policy_admin.services import floors
from tests.policy_admin.factories import (
    CategoryThresholdFactory,
    ClipConceptFactory,
    FloorCategoryFactory,
    KeywordRuleSetFactory,
    PolicyFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.models]


@pytest.fixture(scope="module")
def models():
    return registry.models()


def thresholds_by_id(bundle):
    return {t.id: t for t in bundle.thresholds}


def test_floor_fills_categories_the_policy_left_out(policy, models):
    CategoryThresholdFactory(policy=policy, category="violence", review_at=0.5, block_at=0.8)
    FloorCategoryFactory(category="sexual/minors", review_at=0.1, block_at=0.3)
    bundle = bundle_build(policy=policy, models=models).bundle
    got = thresholds_by_id(bundle)
    assert (got["violence:prompt"].block_at, got["violence:prompt"].source) == (0.8, "policy")
    assert (got["sexual/minors:prompt"].block_at, got["sexual/minors:prompt"].source) == (
        0.3,
        "floor",
    )


def test_a_floor_made_stricter_later_tightens_the_draft(policy, models, admin):
    CategoryThresholdFactory(policy=policy, category="violence", review_at=0.5, block_at=0.8)
    _, tightened = floors.floor_category_set(
        actor=admin, category="violence", applies_to="both", review_at=0.4, block_at=0.7
    )
    assert tightened == ["Acme Images"]
    got = thresholds_by_id(bundle_build(policy=policy, models=models).bundle)
    assert (got["violence:prompt"].review_at, got["violence:prompt"].block_at) == (0.4, 0.7)
    assert got["violence:prompt"].source == "floor"


def test_floor_keyword_sets_are_included_and_fire(policy, models):
    FloorKeywordSet.objects.create(name="Minors", action="block", terms="jailbait", term_count=1)
    KeywordRuleSetFactory(policy=policy, name="Gore", action="review", terms="gore", term_count=1)
    bundle = bundle_build(policy=policy, models=models).bundle
    assert {k.name for k in bundle.keyword_sets} == {"Gore", "Minors"}
    decision = evaluate(bundle, prompt="a j4ilbait photo", models=models)
    assert decision.action.value == "block"


def test_same_draft_gives_the_same_bytes(policy, models):
    KeywordRuleSetFactory(policy=policy)
    first = bundle_build(policy=policy, models=models).bundle
    second = bundle_build(policy=policy, models=models).bundle
    assert first.sha256 == second.sha256


def test_concept_without_three_positives_is_skipped_in_drafts_refused_when_strict(policy, models):
    ClipConceptFactory(policy=policy, name="Firearm")
    result = bundle_build(policy=policy, models=models)
    assert result.bundle.concepts == ()
    assert "Firearm" in result.warnings[0]
    with pytest.raises(ApplicationError, match="needs at least 3"):
        bundle_build(policy=policy, models=models, strict=True)


def test_categories_no_loaded_model_scores_are_named_in_warnings(policy, models):
    CategoryThresholdFactory(policy=policy, category="violence", review_at=0.5, block_at=0.8)
    result = bundle_build(policy=policy, models=models)
    assert "violence:prompt" in thresholds_by_id(result.bundle)
    assert "violence:image" not in thresholds_by_id(result.bundle)
    assert any(w.startswith("Not scored on images: violence.") for w in result.warnings)


def test_demo_policy_builds_and_judges_with_every_rule_kind(tenant, models, admin, media):
    from policy_admin.demo.seed import seed_floor, seed_policy

    seed_floor(actor=admin)
    policy = seed_policy(tenant=tenant, actor=admin)
    bundle = bundle_build(policy=policy, models=models).bundle
    assert len(bundle.keyword_sets) == 7  # five lists, the young-people signal, the floor's
    assert [c.name for c in bundle.conditions] == ["Minor signal: stricter images"]
    assert len(bundle.embedding_sets) == 2
    assert [c.name for c in bundle.concepts] == ["Firearm on display"]

    decision = evaluate(bundle, prompt="soldiers executing prisoners in a field", models=models)
    fired = {r.rule_name for r in decision.results if r.fired}
    assert "Violent intent" in fired
    assert decision.action.value == "block"
    calm = evaluate(bundle, prompt="a watercolour of a lighthouse at dawn", models=models)
    assert calm.action.value == "allow"


def test_the_bundle_carries_default_sampling_before_any_is_saved(policy, models):
    sampling = bundle_build(policy=policy, models=models).bundle.sampling
    assert sampling == Sampling(
        enabled=True, review_per_minute=60, audit_share=0.01, keep_blocks=False, thumbnail_px=256
    )


def test_the_bundle_carries_the_policys_sampling(policy, models):
    DecisionSampling.objects.create(
        tenant=policy.tenant, policy=policy, review_per_minute=5, audit_share=0.2,
        keep_blocks=True, thumbnail_px=0,
    )  # fmt: skip
    bundle = bundle_build(policy=policy, models=models).bundle
    assert bundle.sampling == Sampling(True, 5, 0.2, True, 0)
    assert Bundle.from_bytes(bundle.to_bytes()).sampling == bundle.sampling


def test_another_policys_sampling_is_not_used(policy, other_tenant, models):
    other = PolicyFactory(tenant=other_tenant)
    DecisionSampling.objects.create(tenant=other_tenant, policy=other, audit_share=0.5)
    assert bundle_build(policy=policy, models=models).bundle.sampling.audit_share == 0.01


def test_the_bundle_carries_the_policys_failure_mode(policy, models):
    assert bundle_build(policy=policy, models=models).bundle.failure_mode == "closed"
    policy.failure_mode = "open"
    policy.save()
    assert bundle_build(policy=policy, models=models).bundle.failure_mode == "open"
