"""Conditional rules: a prompt signal replaces a request's image thresholds."""

import json

import pytest

from moderation.engine.bundle import (
    Bundle,
    CategoryOutputs,
    Condition,
    ConditionalRule,
    ConditionThreshold,
)
from moderation.engine.decision import Action
from moderation.engine.errors import BundleError
from moderation.engine.evaluate import PIPELINE, evaluate, evaluate_batch
from moderation.engine.inputs import Item
from moderation.engine.staged import run_stage, stage_needed, staged_decisions, staged_items

from .conftest import solid

# Red share 0.59: review under the bundle's image nudity thresholds (0.5 / 0.8).
PINKISH = (150, 0, 255)
# Red share 0.31: allowed by the bundle, reviewed or blocked once a condition lowers them.
DIM_RED = (80, 0, 255)


def conditioned(bundle_factory, models, *conditions, **overrides):
    return bundle_factory(models, conditions=tuple(conditions), **overrides)


def minors(when, review=0.2, block=0.3, category="nudity"):
    return ConditionalRule(
        "cond-minors", "Minor signal", when, (ConditionThreshold(category, review, block),)
    )


def image_result(decision, category="nudity"):
    [result] = [
        r for r in decision.results
        if r.kind == "category" and r.modality == "image" and r.explanation["category"] == category
    ]  # fmt: skip
    return result


def test_no_conditions_leaves_the_bytes_and_the_digest_alone(bundle, bundle_factory, models):
    assert bundle.conditions == ()
    assert "conditions" not in json.loads(bundle.to_bytes())
    again = bundle_factory(models, conditions=())
    assert again.sha256 == bundle.sha256


@pytest.mark.parametrize(
    "when",
    [
        Condition("keyword_set", rule="kw-brands"),
        Condition("embedding_set", rule="emb-guns"),
        Condition("category", category="nudity", at_least=0.5),
    ],
    ids=["keyword set", "embedding set", "category score"],
)
def test_a_condition_round_trips_through_the_canonical_bytes(bundle_factory, models, when):
    b = conditioned(bundle_factory, models, minors(when))
    again = Bundle.from_bytes(b.to_bytes())
    assert again.conditions == b.conditions
    assert again.sha256 == b.sha256
    assert json.loads(b.to_bytes())["conditions"][0]["when"]["kind"] == when.kind


@pytest.mark.parametrize(
    ("prompt", "when"),
    [
        ("acme rival toys", Condition("keyword_set", rule="kw-brands")),
        ("buy illegal guns online", Condition("embedding_set", rule="emb-guns")),
        ("people at the beach", Condition("category", category="nudity", at_least=0.5)),
    ],
    ids=["keyword set", "embedding set", "category score"],
)
def test_a_prompt_signal_tightens_the_image_thresholds(bundle_factory, models, prompt, when):
    b = conditioned(bundle_factory, models, minors(when))
    plain = evaluate(b, prompt="a cat on a sofa", image=solid(DIM_RED), models=models)
    signal = evaluate(b, prompt=prompt, image=solid(DIM_RED), models=models)
    assert image_result(plain).fired is False
    result = image_result(signal)
    assert (result.fired, result.action, result.threshold) == (True, Action.BLOCK, 0.3)
    [cond] = [r for r in signal.results if r.kind == "condition"]
    assert cond.fired
    assert cond.action is Action.ALLOW


def test_the_explanation_names_the_condition_and_each_threshold_from_and_to(bundle_factory, models):
    b = conditioned(bundle_factory, models, minors(Condition("keyword_set", rule="kw-brands")))
    d = evaluate(b, prompt="acme rival toys", image=solid(DIM_RED), models=models)
    change = image_result(d).explanation["condition"]
    assert change["conditions"] == [{"id": "cond-minors", "name": "Minor signal"}]
    assert change["review_at"] == {"from": 0.5, "to": 0.2}
    assert change["block_at"] == {"from": 0.8, "to": 0.3}
    [cond] = [r for r in d.results if r.kind == "condition"]
    assert cond.explanation["rule_name"] == "Competitors"
    assert cond.explanation["thresholds"] == [
        {"category": "nudity", "review_at": {"from": 0.5, "to": 0.2},
         "block_at": {"from": 0.8, "to": 0.3}}
    ]  # fmt: skip


def test_an_unfired_condition_changes_nothing(bundle, bundle_factory, models):
    b = conditioned(bundle_factory, models, minors(Condition("keyword_set", rule="kw-brands")))
    d = evaluate(b, prompt="a cat", image=solid(PINKISH), models=models)
    base = evaluate(bundle, prompt="a cat", image=solid(PINKISH), models=models)
    assert image_result(d) == image_result(base)
    assert "condition" not in image_result(d).explanation


def test_the_category_score_must_reach_the_value(bundle_factory, models):
    when = Condition("category", category="nudity", at_least=0.7)
    b = conditioned(bundle_factory, models, minors(when))
    beach = evaluate(b, prompt="people at the beach", image=solid(DIM_RED), models=models)
    naked = evaluate(b, prompt="naked people", image=solid(DIM_RED), models=models)
    assert image_result(beach).fired is False  # prompt nudity 0.6 < 0.7
    assert image_result(naked).action is Action.BLOCK


def test_a_condition_may_loosen_the_policys_own_threshold(bundle_factory, models):
    loosen = minors(Condition("keyword_set", rule="kw-brands"), review=0.7, block=0.9)
    b = conditioned(bundle_factory, models, loosen)
    d = evaluate(b, prompt="acme rival art", image=solid(PINKISH), models=models)
    assert image_result(d).fired is False  # 0.59 < 0.7: the floor check lives in the builder


def test_several_fired_conditions_take_the_strictest_value(bundle_factory, models):
    a = minors(Condition("keyword_set", rule="kw-brands"), review=0.2, block=0.6)
    b = ConditionalRule(
        "cond-beach", "Beach", Condition("category", category="nudity", at_least=0.5),
        (ConditionThreshold("nudity", 0.25, 0.3),),
    )  # fmt: skip
    bundle = conditioned(bundle_factory, models, a, b)
    d = evaluate(bundle, prompt="acme rival beach", image=solid(DIM_RED),
                 models=models)  # fmt: skip
    result = image_result(d)
    assert (result.explanation["review_at"], result.explanation["block_at"]) == (0.2, 0.3)
    assert [c["id"] for c in result.explanation["condition"]["conditions"]] == [
        "cond-minors", "cond-beach"
    ]  # fmt: skip


def test_a_condition_adds_a_threshold_the_bundle_lacks(bundle_factory, models):
    breast, buttocks = "nudenet.FEMALE_BREAST_EXPOSED", "nudenet.BUTTOCKS_EXPOSED"
    outputs = {
        "nudity": CategoryOutputs(prompt=("text.nudity",), image=(breast,)),
        "sexual": CategoryOutputs(image=(buttocks, breast)),
    }
    rule = minors(Condition("keyword_set", rule="kw-brands"), category="sexual")
    b = conditioned(bundle_factory, models, rule, category_outputs=outputs)
    assert all(
        r.explanation.get("category") != "sexual"
        for r in evaluate(b, prompt="x", image=solid(DIM_RED), models=models).results
    )
    d = evaluate(b, prompt="acme rival", image=solid(DIM_RED), models=models)
    result = image_result(d, "sexual")
    assert result.rule_id == "cond-minors:sexual"
    assert result.action is Action.BLOCK
    assert result.explanation["condition"]["review_at"] == {"from": None, "to": 0.2}


def test_an_image_without_a_prompt_is_judged_by_the_bundles_thresholds(bundle_factory, models):
    b = conditioned(bundle_factory, models, minors(Condition("keyword_set", rule="kw-brands")))
    d = evaluate(b, image=solid(DIM_RED), models=models)
    assert d.action is Action.ALLOW
    assert not [r for r in d.results if r.kind == "condition"]


def test_an_empty_prompt_skips_a_category_condition(bundle_factory, models):
    when = Condition("category", category="nudity", at_least=0.0)
    b = conditioned(bundle_factory, models, minors(when))
    d = evaluate(b, prompt="   ", image=solid(DIM_RED), models=models)
    [cond] = [r for r in d.results if r.kind == "condition"]
    assert cond.fired is False
    assert "skipped" in cond.explanation


def test_conditions_apply_per_request_within_a_batch(bundle_factory, models):
    b = conditioned(bundle_factory, models, minors(Condition("keyword_set", rule="kw-brands")))
    items = [Item("acme rival", solid(DIM_RED)), Item("a cat", solid(DIM_RED))]
    first, second = evaluate_batch(b, items, models=models)
    assert (first.action, second.action) == (Action.BLOCK, Action.ALLOW)


def test_the_staged_path_conditions_the_image_stage_on_the_prompt_stage(bundle_factory, models):
    b = conditioned(bundle_factory, models, minors(Condition("keyword_set", rule="kw-brands")))
    items = [Item("acme rival", solid(DIM_RED)), Item("a cat", solid(DIM_RED))]
    expected = [_judged(d) for d in evaluate_batch(b, items, models=models)]
    partials = staged_items(b, items, models=models)
    for stage in PIPELINE:
        # Each request alone in its batch, the image stage in reverse order.
        order = partials if stage == "prompt" else partials[::-1]
        for p in order:
            if stage_needed(b, stage, p.item):
                run_stage(b, stage, [p], models=models)
    got = [_judged(d) for d in staged_decisions(b, partials)]
    assert got == expected
    assert got[0][0] is Action.BLOCK


def _judged(decision):
    # A matrix product's last bits depend on the batch's shape: compare what each rule decided.
    rules = [(r.rule_id, r.modality, r.fired, r.action, r.threshold) for r in decision.results]
    return decision.action, rules


def test_staged_stages_are_needed_for_a_condition_alone(bundle_factory, models):
    b = conditioned(
        bundle_factory, models, minors(Condition("keyword_set", rule="kw-brands")),
        thresholds=(), concepts=(),
    )  # fmt: skip
    item = Item("acme rival", solid(DIM_RED))
    assert stage_needed(b, "prompt", item)
    assert stage_needed(b, "image", item)
    assert evaluate(b, prompt="acme rival", image=solid(DIM_RED), models=models).action is (
        Action.BLOCK
    )


def _data(bundle_factory, models):
    b = conditioned(bundle_factory, models, minors(Condition("keyword_set", rule="kw-brands")))
    return json.loads(b.to_bytes())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(conditions=[]), r"conditions: empty list"),
        (
            lambda d: d["conditions"][0]["when"].update(rule="kw-nope"),
            r"conditions\[0\]\.when\.rule: 'kw-nope' is not the id of an entry of 'keyword_sets'",
        ),
        (
            lambda d: d["conditions"][0]["when"].update(kind="regex"),
            r"conditions\[0\]\.when\.kind: expected one of keyword_set, embedding_set, category",
        ),
        (
            lambda d: d["conditions"][0]["when"].update(kind="category"),
            r"conditions\[0\]\.when: unknown field 'rule'",
        ),
        (
            lambda d: d["conditions"][0].update(
                when={"kind": "category", "category": "gore", "at_least": 0.5}
            ),
            r"conditions\[0\]\.when\.category: 'gore' has no prompt outputs",
        ),
        (
            lambda d: d["conditions"][0].update(
                when={"kind": "category", "category": "nudity", "at_least": 1.5}
            ),
            r"conditions\[0\]\.when\.at_least: 1.5 is outside \[0.0, 1.0\]",
        ),
        (
            lambda d: d["conditions"][0]["thresholds"][0].update(review_at=0.9),
            r"conditions\[0\]\.thresholds\[0\]: review_at 0.9 is above block_at 0.3",
        ),
        (
            lambda d: d["conditions"][0]["thresholds"][0].update(category="gore"),
            r"conditions\[0\]\.thresholds\[0\]\.category: 'gore' has no image outputs",
        ),
        (
            lambda d: d["conditions"][0]["thresholds"].append(d["conditions"][0]["thresholds"][0]),
            r"conditions\[0\]\.thresholds\[1\]\.category: 'nudity' is already set",
        ),
        (lambda d: d["conditions"][0].update(thresholds=[]), r"conditions\[0\]\.thresholds: no"),
        (
            lambda d: d["conditions"][0].update(id="kw-adult"),
            r"conditions\[0\]\.id: id 'kw-adult' is already used at keyword_sets\[0\]\.id",
        ),
        (lambda d: d["conditions"][0].update(extra=1), r"conditions\[0\]: unknown field 'extra'"),
    ],
)
def test_the_codec_refuses_malformed_conditions_with_a_path(
    bundle_factory, models, change, message
):
    from moderation.engine.bundle import bundle_from_dict

    data = _data(bundle_factory, models)
    change(data)
    with pytest.raises(BundleError, match=message):
        bundle_from_dict(data)
