"""Trained classifiers in a bundle: canonical round trip, one product per batch, explanations."""

import dataclasses

import numpy as np
import pytest

from moderation.engine.bundle import Bundle, Classifier
from moderation.engine.classifiers import StackedClassifiers, classifier_scores, feature_matrix
from moderation.engine.decision import Action
from moderation.engine.errors import BundleError
from moderation.engine.evaluate import evaluate, evaluate_batch

from .conftest import IMAGE_DIM, TEXT_DIM, build_bundle

RED = "nudenet.FEMALE_BREAST_EXPOSED"


def image_classifier(**overrides) -> Classifier:
    """Fires on red images: the nudenet output carries the weight, the vector none."""
    width = IMAGE_DIM + 1
    weights = np.zeros(width, dtype=np.float32)
    weights[-1] = 4.0
    parts = {
        "id": "classifier:1", "name": "Mascot", "action": Action.BLOCK, "target": "image",
        "threshold": 0.5, "version": 2, "encoder": "clip", "outputs": (RED,),
        "weights": weights, "bias": 0.0, "mean": np.full(width, 0.5, dtype=np.float32),
        "scale": np.full(width, 0.25, dtype=np.float32),
        "platt_a": 1.0, "platt_b": 0.0,
    }  # fmt: skip
    parts.update(overrides)
    return Classifier(**parts)


def prompt_classifier(models, **overrides) -> Classifier:
    """Points at the text vector of 'mascot' (bag-of-words fake encoder)."""
    direction = models.text.encode(["mascot"])[0]
    parts = {
        "id": "classifier:2", "name": "Mascot talk", "action": Action.REVIEW, "target": "prompt",
        "threshold": 0.5, "version": 1, "encoder": "minilm", "outputs": (),
        "weights": direction * 8,
        "bias": -4.0, "mean": np.zeros(TEXT_DIM, dtype=np.float32),
        "scale": np.ones(TEXT_DIM, dtype=np.float32),
    }  # fmt: skip
    parts.update(overrides)
    return Classifier(**parts)


@pytest.fixture
def with_classifiers(models):
    return build_bundle(models, classifiers=(image_classifier(), prompt_classifier(models)))


def test_bundle_round_trips_canonically(with_classifiers):
    again = Bundle.from_bytes(with_classifiers.to_bytes())
    assert again.to_bytes() == with_classifiers.to_bytes()
    [image, prompt] = again.classifiers
    assert (image.outputs, image.version, prompt.target) == ((RED,), 2, "prompt")
    np.testing.assert_array_equal(image.weights, with_classifiers.classifiers[0].weights)


def test_a_bundle_without_classifiers_keeps_its_old_bytes(models):
    assert b'"classifiers"' not in build_bundle(models).to_bytes()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outputs": ("ocr.text",)}, "not pin"),
        ({"encoder": "other"}, "not a pinned model"),
        ({"scale": np.zeros(IMAGE_DIM + 1, dtype=np.float32)}, "spread is positive"),
        ({"weights": np.zeros(3, dtype=np.float32)}, "dimensions"),
        ({"threshold": 1.5}, "outside"),
    ],
)
def test_bad_classifiers_are_refused_with_a_path(models, change, message):
    with pytest.raises(BundleError, match=message) as caught:
        build_bundle(models, classifiers=(image_classifier(**change),))
    assert "classifiers[0]" in str(caught.value)


def test_stacked_scores_equal_each_classifier_alone(models):
    rng = np.random.default_rng(0)
    a = image_classifier(weights=rng.normal(size=IMAGE_DIM + 1).astype(np.float32))
    b = image_classifier(
        id="classifier:9", outputs=("nudenet.BUTTOCKS_EXPOSED",), platt_a=0.5, platt_b=0.3,
        weights=rng.normal(size=IMAGE_DIM + 1).astype(np.float32),
    )  # fmt: skip
    vectors = rng.normal(size=(4, IMAGE_DIM))
    scores = [{RED: 0.2 * i, "nudenet.BUTTOCKS_EXPOSED": 0.1} for i in range(4)]
    stacked = StackedClassifiers([a, b], IMAGE_DIM).score(vectors, scores)
    for k, c in enumerate((a, b)):
        alone = classifier_scores(c, feature_matrix(vectors, scores, c.outputs))
        np.testing.assert_allclose(stacked[:, k], alone, rtol=1e-9)


def test_image_classifier_fires_with_score_and_threshold(with_classifiers, models, image_of):
    decision = evaluate(with_classifiers, image=image_of((255, 0, 0)), models=models)
    [result] = [r for r in decision.results if r.kind == "classifier"]
    assert (result.fired, result.action, result.threshold) == (True, Action.BLOCK, 0.5)
    # red share 1.0: z = 4 * (1 - 0.5) / 0.25 = 8
    assert result.score == pytest.approx(1 / (1 + np.exp(-8)))
    assert result.explanation == {"version": 2, "classifier_score": result.score}
    assert decision.action is Action.BLOCK


def test_prompt_classifier_and_empty_prompt(with_classifiers, models):
    hit, empty = evaluate_batch(
        with_classifiers, [{"prompt": "the mascot"}, {"prompt": "   "}], models=models
    )
    [result] = [r for r in hit.results if r.kind == "classifier"]
    assert result.fired
    assert result.modality == "prompt"
    [skipped] = [r for r in empty.results if r.kind == "classifier"]
    assert not skipped.fired
    assert "skipped" in skipped.explanation


def test_classifiers_add_no_model_call(models, image_of):
    bundle = build_bundle(models, classifiers=(image_classifier(), prompt_classifier(models)))
    images = [image_of((i * 40, 0, 0)) for i in range(5)]
    models.text.calls.clear()
    evaluate_batch(bundle, [{"prompt": "mascot", "image": im} for im in images], models=models)
    assert models.image.calls == [5]
    assert len(models.text.calls) == 1
    nudenet = next(s for s in models.scorers("image") if s.pin.name == "nudenet")
    assert nudenet.calls == [5]


def test_changed_encoder_weights_are_refused(with_classifiers, models, image_of):
    from moderation.engine.models.base import PinMismatch

    models.image.pin = dataclasses.replace(models.image.pin, sha256="0" * 64)
    with pytest.raises(PinMismatch, match="clip"):
        evaluate(with_classifiers, image=image_of((255, 0, 0)), models=models)
