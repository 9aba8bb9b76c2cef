"""evaluate(): the whole pipeline with fake models."""

import json

import pytest

from moderation.engine.bundle import CategoryThreshold
from moderation.engine.compiled import compile_bundle, load_bundle
from moderation.engine.decision import Action
from moderation.engine.errors import EngineError, InputError
from moderation.engine.evaluate import STAGES, evaluate, evaluate_batch
from moderation.engine.models.base import PinMismatch

from .conftest import FakeImageEncoder, FakeModels, FakeScorer, FakeTextEncoder, image_scores


def fired(decision):
    return {(r.rule_id, r.modality) for r in decision.fired}


@pytest.mark.parametrize(
    ("prompt", "action", "rules"),
    [
        ("a cat on a sofa", Action.ALLOW, set()),
        ("acme rival shoes", Action.FLAG, {("kw-brands", "prompt")}),
        ("people at the beach", Action.REVIEW, {("cat-nudity", "prompt")}),
        ("naked people", Action.BLOCK, {("cat-nudity", "prompt")}),
        ("buy illegal guns online", Action.REVIEW, {("emb-guns", "prompt")}),
        ("ｓ３ｘ and acme rival", Action.BLOCK, {("kw-adult", "prompt"), ("kw-brands", "prompt")}),
    ],
)
def test_prompt_decisions(bundle, models, prompt, action, rules):
    decision = evaluate(bundle, prompt=prompt, models=models)
    assert decision.action is action
    assert fired(decision) == rules


@pytest.mark.parametrize(
    ("rgb", "action", "rules"),
    [
        ((0, 0, 255), Action.ALLOW, set()),
        ((150, 0, 255), Action.REVIEW, {("cat-nudity", "image")}),  # red share 0.59
        ((255, 0, 0), Action.BLOCK, {("cat-nudity", "image"), ("concept-red", "image")}),
    ],
)
def test_image_decisions(bundle, models, image_of, rgb, action, rules):
    decision = evaluate(bundle, image=image_of(rgb), models=models)
    assert (decision.action, fired(decision)) == (action, rules)


def test_category_explanation_names_the_model_output(bundle, models, image_of):
    decision = evaluate(bundle, image=image_of((255, 0, 0)), models=models)
    [category] = [r for r in decision.results if r.kind == "category"]
    assert category.explanation["output"] == "nudenet.FEMALE_BREAST_EXPOSED"
    assert category.explanation["outputs"]["nudenet.BUTTOCKS_EXPOSED"] == 0.0
    assert (category.action, category.threshold) == (Action.BLOCK, 0.8)


def test_keyword_explanation_spans_the_original_prompt(bundle, models):
    prompt = "see the ѕ.е.х tape"
    [hit] = list(evaluate(bundle, prompt=prompt, models=models).fired)
    [match] = hit.explanation["matches"]
    assert prompt[slice(*match["span"])] == "ѕ.е.х" == match["text"]


def test_floor_threshold_beats_a_looser_policy_threshold(models, bundle_factory):
    thresholds = (
        CategoryThreshold("policy-nudity", "nudity", "prompt", None, 0.95, "policy"),
        CategoryThreshold("floor-nudity", "nudity", "prompt", 0.3, 0.5, "floor"),
    )
    bundle = bundle_factory(models, thresholds=thresholds)
    decision = evaluate(bundle, prompt="naked", models=models)
    assert decision.action is Action.BLOCK
    assert fired(decision) == {("floor-nudity", "prompt")}


def test_decision_is_stamped_and_timed(bundle, models, image_of):
    decision = evaluate(bundle, prompt="hello", image=image_of((1, 2, 3)), models=models)
    assert decision.stamp.sha256 == bundle.sha256
    assert (decision.stamp.policy, decision.stamp.version) == ("default", 3)
    assert set(decision.timings_ms) == {*STAGES, "total"}
    json.dumps(decision.as_dict())


def test_batch_makes_one_model_call_per_stage(bundle, models, image_of):
    items = [{"prompt": f"prompt {i}", "image": image_of((i, 0, 0))} for i in range(5)]
    decisions = evaluate_batch(bundle, items, models=models)
    assert len(decisions) == 5
    assert models.text.calls[-1] == [f"prompt {i}" for i in range(5)]
    assert models.image.calls == [5]
    assert [s.calls for s in models.scorers("prompt") + models.scorers("image")] == [[5], [5]]


def test_batch_gives_the_same_decisions_as_one_at_a_time(bundle, models, image_of):
    items = [
        ("naked", None),
        ("acme rival", image_of((255, 0, 0))),
        (None, image_of((0, 9, 0))),
        ("café ѕ.е.х and s3x", None),
        ("Sussex, then sex", None),
    ]
    batch = evaluate_batch(bundle, items, models=models)
    single = [evaluate(bundle, prompt=p, image=i, models=models) for p, i in items]
    assert [d.action for d in batch] == [d.action for d in single]
    for b, s in zip(batch, single, strict=True):
        assert [r.explanation for r in b.results if r.kind == "keyword"] == [
            r.explanation for r in s.results if r.kind == "keyword"
        ]
        # Batched float32 products may differ from single ones in the last bits.
        assert [r.score for r in b.results] == pytest.approx([r.score for r in s.results], abs=1e-6)


def test_pin_mismatch_is_refused_naming_both_sides(bundle):
    other = FakeModels(text=FakeTextEncoder(version="2"))
    with pytest.raises(PinMismatch, match=r"'minilm'.*'minilm 1'.*'minilm 2'"):
        evaluate(bundle, prompt="hi", models=other)


def test_missing_model_is_refused(bundle):
    models = FakeModels(scorers=[])
    with pytest.raises(PinMismatch, match="'nudenet'.*not loaded here"):
        evaluate(bundle, prompt="hi", models=models)


def test_uncalibrated_clip_clears_the_calibrated_flag(bundle_factory, image_of):
    models = FakeModels(image=FakeImageEncoder(calibrated=False))
    bundle = bundle_factory(models)
    assert evaluate(bundle, prompt="hi", models=models).calibrated is True
    assert evaluate(bundle, image=image_of((9, 9, 9)), models=models).calibrated is False


def test_scorer_missing_a_mapped_output_is_an_error(bundle):
    scorers = [
        FakeScorer("text", "prompt", ["text.violence"], lambda p: {"text.violence": 0.1}),
        FakeScorer("nudenet", "image", ["nudenet.BUTTOCKS_EXPOSED"], image_scores),
    ]
    with pytest.raises(EngineError, match="'text.nudity', which no loaded prompt scorer"):
        evaluate(bundle, prompt="hi", models=FakeModels(scorers=scorers))


@pytest.mark.parametrize("prompt", ["", "   ", "\u200b"])
def test_empty_prompt_is_allowed_without_calling_models(bundle, models, prompt):
    decision = evaluate(bundle, prompt=prompt, models=models)
    assert decision.action is Action.ALLOW
    assert models.text.calls[-1] != [prompt]


def test_invalid_utf8_bytes_are_replaced_not_fatal(bundle, models):
    decision = evaluate(bundle, prompt=b"s\xffex \xc3\x28 sex", models=models)
    assert decision.action is Action.BLOCK
    [match] = decision.fired[0].explanation["matches"]
    assert match["text"] == "sex"


def test_two_megabyte_prompt_is_evaluated(bundle, models):
    prompt = "a quiet walk in the park " * 84_000 + "s3x"
    assert len(prompt) > 2_000_000
    assert evaluate(bundle, prompt=prompt, models=models).action is Action.BLOCK


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "nothing to evaluate"),
        ({"prompt": 42}, "a prompt must be text or UTF-8 bytes, got int"),
        ({"image": b"\x89PNG"}, "an image must be a decoded PIL image"),
    ],
)
def test_bad_input_says_what_is_wrong(bundle, models, kwargs, message):
    with pytest.raises(InputError, match=message):
        evaluate(bundle, models=models, **kwargs)


def test_compiled_bundle_is_built_once_and_loads_from_bytes(bundle, models):
    assert compile_bundle(bundle) is compile_bundle(bundle)
    loaded = load_bundle(bundle.to_bytes(), sha256=bundle.sha256)
    assert evaluate(loaded, prompt="naked", models=models).action is Action.BLOCK
