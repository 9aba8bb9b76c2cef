"""The builder turns the draft's conditional rules into bundle rules, with the floor applied."""

import pytest

from kernel.errors import ApplicationError
from moderation.engine.bundle import Bundle
from moderation.engine.decision import Action
from moderation.engine.evaluate import evaluate
from policy_admin.bundles.builder import bundle_build
from tests.moderation.engine.conftest import (
    FakeModels,
    FakeScorer,
    image_scores,
    solid,
    text_scores,
)
from tests.policy_admin.factories import (
    CategoryThresholdFactory,
    ConditionalRuleFactory,
    FloorCategoryFactory,
    KeywordRuleSetFactory,
)

pytestmark = pytest.mark.django_db

# The fake NudeNet scores an image's red share: 0.31 is allowed at nudity 0.5 / 0.85.
DIM_RED = (80, 0, 255)


NUDENET = ("FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED",
           "BUTTOCKS_EXPOSED", "ANUS_EXPOSED")  # fmt: skip


@pytest.fixture
def models():
    """Fakes with every output the catalogue's nudity category reads from these two models."""
    return FakeModels(
        scorers=[
            FakeScorer("text", "prompt", ["text.nudity", "text.violence"], text_scores),
            FakeScorer("nudenet", "image", [f"nudenet.{n}" for n in NUDENET], image_scores),
        ]
    )


def test_a_keyword_condition_travels_in_the_bundle_and_tightens_images(policy, models):
    CategoryThresholdFactory(policy=policy, category="nudity", review_at=0.5, block_at=0.85)
    minors = KeywordRuleSetFactory(policy=policy, name="Minors", terms="schoolgirl", term_count=1)
    row = ConditionalRuleFactory(
        policy=policy, name="Minor signal", when="keyword_set", keyword_set=minors,
        category="", at_least=None,
    )  # fmt: skip
    bundle = bundle_build(policy=policy, models=models).bundle
    [condition] = bundle.conditions
    assert (condition.id, condition.when.rule) == (f"condition:{row.pk}", f"keywords:{minors.pk}")
    assert Bundle.from_bytes(bundle.to_bytes()).sha256 == bundle.sha256
    plain = evaluate(bundle, prompt="a girl in a park", image=solid(DIM_RED), models=models)
    signal = evaluate(bundle, prompt="a schoolgirl", image=solid(DIM_RED), models=models)
    assert plain.action is Action.ALLOW
    assert signal.action is Action.BLOCK  # the keyword set blocks too; the image now does
    [image] = [r for r in signal.results if r.modality == "image" and r.kind == "category"]
    assert image.fired
    assert image.explanation["condition"]["block_at"] == {"from": 0.85, "to": 0.3}


def test_a_category_condition_adds_its_categories_outputs(policy, models):
    ConditionalRuleFactory(policy=policy)  # prompt nudity >= 0.5 -> image nudity 0.2 / 0.3
    bundle = bundle_build(policy=policy, models=models).bundle
    assert bundle.thresholds == ()
    assert bundle.category_outputs["nudity"].prompt == ("text.nudity",)
    assert evaluate(bundle, prompt="naked people", image=solid(DIM_RED), models=models).action is (
        Action.BLOCK
    )
    assert evaluate(bundle, prompt="a cat", image=solid(DIM_RED), models=models).action is (
        Action.ALLOW
    )


def test_no_condition_leaves_the_bundle_as_it_was(policy, models):
    CategoryThresholdFactory(policy=policy, category="nudity")
    before = bundle_build(policy=policy, models=models).bundle
    ConditionalRuleFactory(policy=policy, enabled=False)
    after = bundle_build(policy=policy, models=models).bundle
    assert after.conditions == ()
    assert after.sha256 == before.sha256


def test_a_floor_tightened_later_refuses_publishing_and_tightens_a_draft_test(policy, models):
    ConditionalRuleFactory(
        policy=policy, name="Minor signal",
        image_thresholds=[{"category": "nudity", "review_at": 0.2, "block_at": 0.5}],
    )  # fmt: skip
    FloorCategoryFactory(category="nudity", applies_to="both", review_at=0.1, block_at=0.4)
    with pytest.raises(ApplicationError) as refused:
        bundle_build(policy=policy, models=models, strict=True)
    assert refused.value.message.startswith("Conditional rule “Minor signal”: image nudity")
    assert "block at 0.5 is looser than the platform floor's 0.4" in refused.value.message
    result = bundle_build(policy=policy, models=models)
    [threshold] = result.bundle.conditions[0].thresholds
    assert (threshold.review_at, threshold.block_at) == (0.1, 0.4)
    assert any("This test used the floor's value." in w for w in result.warnings)


def test_a_condition_on_an_empty_keyword_set_is_left_out_of_a_test(policy, models):
    empty = KeywordRuleSetFactory(policy=policy, name="Later", terms="", term_count=0)
    ConditionalRuleFactory(
        policy=policy, name="Waits", when="keyword_set", keyword_set=empty, category="",
        at_least=None,
    )  # fmt: skip
    result = bundle_build(policy=policy, models=models)
    assert result.bundle.conditions == ()
    assert result.warnings == [
        "Conditional rule “Waits” reads the keyword set “Later”, which has no terms yet. "
        "It was left out of this test."
    ]
    with pytest.raises(ApplicationError, match="which has no terms yet"):
        bundle_build(policy=policy, models=models, strict=True)


def test_the_version_diff_names_a_changed_condition(policy, models, editor):
    from policy_admin.bundles.diff import bundle_diff
    from policy_admin.services import conditions

    row = ConditionalRuleFactory(policy=policy, name="Minor signal")
    before = bundle_build(policy=policy, models=models).bundle
    row.policy = policy
    conditions.condition_save(
        policy=policy, actor=editor, revision=policy.revision, condition=row,
        image_thresholds=[{"category": "nudity", "review_at": 0.1, "block_at": 0.3}],
    )  # fmt: skip
    after = bundle_build(policy=policy, models=models).bundle
    [change] = bundle_diff(before, after).changed
    assert (change.kind, change.name) == ("conditional rule", "Minor signal")
    assert change.fields == {"nudity (image)": ("review 0.2 · block 0.3", "review 0.1 · block 0.3")}
