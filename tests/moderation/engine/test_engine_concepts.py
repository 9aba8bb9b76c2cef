"""Concept maths against hand-computed values."""

import numpy as np
import pytest

from moderation.engine.bundle import Concept
from moderation.engine.concepts import (
    StackedConcepts,
    concept_vectors,
    fit_linear_probe,
    prototype_vector,
    sigmoid,
)
from moderation.engine.decision import Action
from moderation.engine.errors import InputError

S = 1 / np.sqrt(2)


def test_prototype_is_the_unit_mean_of_unit_positives():
    proto = prototype_vector(np.array([[2.0, 0.0], [0.0, 3.0]]))
    np.testing.assert_allclose(proto, [S, S], rtol=1e-6)


def test_prototype_moves_away_from_the_negatives():
    # p = (s, s); n = (0, 1); p - 0.5 n = (0.7071, 0.2071); its unit form:
    proto = prototype_vector(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(proto, [0.959683, 0.281085], rtol=1e-5)


def test_one_probe_step_from_zero_matches_the_hand_computed_gradient():
    # p = 0.5 for both samples; residuals 0.5*(0.5-1) and 0.5*(0.5-0), so
    # grad_w = (-0.25, 0.25), grad_b = 0; one step of rate 1 gives w = (0.25, -0.25).
    w, b = fit_linear_probe(
        np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), steps=1, learning_rate=1.0, l2=0.0
    )
    np.testing.assert_allclose(w, [0.25, -0.25])
    assert b == 0.0


def test_probe_l2_shrinks_the_weights():
    pos, neg = np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])
    w_free, _ = fit_linear_probe(pos, neg, l2=0.0)
    w_l2, _ = fit_linear_probe(pos, neg, l2=0.1)
    assert np.linalg.norm(w_l2) < np.linalg.norm(w_free)


def test_probe_separates_and_is_deterministic():
    rng = np.random.default_rng(0)
    pos = rng.normal([1, 0, 0], 0.1, size=(5, 3))
    neg = rng.normal([0, 1, 0], 0.1, size=(40, 3))
    w1, b1 = fit_linear_probe(pos, neg)
    w2, b2 = fit_linear_probe(pos, neg)
    assert np.array_equal(w1, w2)
    assert b1 == b2
    assert (sigmoid(pos @ w1 + b1) > 0.5).all()
    assert (sigmoid(neg @ w1 + b1) < 0.5).all()


def test_stacked_scores_are_cosine_for_prototypes_and_sigmoid_for_probes():
    concepts = [
        Concept("p", "p", Action.FLAG, "prototype", 0.5, "clip", np.array([1, 0], np.float32)),
        Concept("q", "q", Action.FLAG, "linear_probe", 0.5, "clip",
                np.array([2, 0], np.float32), -1.0),
    ]  # fmt: skip
    scores = StackedConcepts(concepts, 2).score(np.array([[S, S]], dtype=np.float32))
    np.testing.assert_allclose(scores[0], [S, 1 / (1 + np.exp(-(2 * S - 1)))], rtol=1e-6)


def test_concept_vectors_from_an_encoder(models, image_of):
    red, blue = image_of((255, 0, 0)), image_of((0, 0, 255))
    proto = concept_vectors(models.image, [red], [blue], "prototype")
    assert proto.encoder == "clip"
    assert proto.bias == 0.0
    assert np.linalg.norm(proto.vector) == pytest.approx(1.0, abs=1e-6)
    probe = concept_vectors(models.image, [red], [], "linear_probe", background=[blue],
                            hints=["a red thing"])  # fmt: skip
    red_vec = models.image.encode_images([red])[0]
    blue_vec = models.image.encode_images([blue])[0]
    assert sigmoid(red_vec @ probe.vector + probe.bias) > sigmoid(
        blue_vec @ probe.vector + probe.bias
    )


def test_probe_without_negatives_is_refused(models, image_of):
    with pytest.raises(InputError, match="needs positives and negatives"):
        concept_vectors(models.image, [image_of((255, 0, 0))], [], "linear_probe")
