"""CLIP concepts defined few-shot: a prototype direction or a small linear probe.

Prototype: p = unit(mean of unit positives); with negatives,
prototype = unit(p - w * unit(mean of unit negatives)), w = `negative_weight`
(0.5 by default), which turns the direction away from what the negatives
share with the positives. Score = cosine(image, prototype), in [-1, 1].

Linear probe: logistic regression of positives (label 1) against negatives
and the shared background set (label 0), the two classes weighted equally
whatever their sizes, L2 on the weights, full-batch gradient descent from
zero in float64: the same inputs always give the same weights.
Score = sigmoid(w . x + b), in [0, 1].

Text hints, encoded by the same backbone into the same space, count as extra
positives in both methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from moderation.engine.bundle.types import Concept
from moderation.engine.embedding_rules import unit_rows
from moderation.engine.errors import InputError
from moderation.engine.models.base import ImageEncoder

if TYPE_CHECKING:
    from PIL import Image

Method = Literal["prototype", "linear_probe"]
PROBE_STEPS = 300
PROBE_LEARNING_RATE = 2.0
PROBE_L2 = 1e-3


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    if norm == 0:
        raise InputError("the examples cancel out (zero mean direction); add or change examples")
    return vector / norm


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float64)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def prototype_vector(
    positives: np.ndarray, negatives: np.ndarray | None = None, negative_weight: float = 0.5
) -> np.ndarray:
    """Return the unit prototype: mean positive direction, pushed away from the negatives."""
    if len(positives) == 0:
        raise InputError("a concept needs at least one positive example")
    proto = _unit(_unit_rows(positives).mean(axis=0))
    if negatives is not None and len(negatives):
        proto = _unit(proto - negative_weight * _unit(_unit_rows(negatives).mean(axis=0)))
    return proto.astype(np.float32)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Return the logistic function of `z`, without overflow for large |z|."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def fit_linear_probe(
    positives: np.ndarray,
    negatives: np.ndarray,
    *,
    steps: int = PROBE_STEPS,
    learning_rate: float = PROBE_LEARNING_RATE,
    l2: float = PROBE_L2,
) -> tuple[np.ndarray, float]:
    """Fit class-balanced L2 logistic regression by gradient descent; return (weights, bias)."""
    if len(positives) == 0 or len(negatives) == 0:
        raise InputError("a linear probe needs positives and negatives (or a background set)")
    x = np.vstack([positives, negatives]).astype(np.float64)
    y = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
    # Each class carries half the loss: a handful of positives is not drowned
    # by a background set of thousands.
    sample_weight = np.where(y == 1, 0.5 / len(positives), 0.5 / len(negatives))
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        residual = sample_weight * (sigmoid(x @ w + b) - y)
        w -= learning_rate * (x.T @ residual + l2 * w)
        b -= learning_rate * float(residual.sum())
    return w.astype(np.float32), float(b)


@dataclass(frozen=True, eq=False)
class ConceptVectors:
    """What a bundle stores for a concept besides its name, action and threshold."""

    method: Method
    encoder: str  # pin name of the image encoder
    vector: np.ndarray  # (d,) float32
    bias: float


def _encode_images(encoder: ImageEncoder, images, what: str) -> np.ndarray:
    if isinstance(images, np.ndarray):
        return unit_rows(images, len(images), encoder.dim, what)
    images = list(images)
    if not images:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    return unit_rows(encoder.encode_images(images), len(images), encoder.dim, what)


def concept_vectors(
    encoder: ImageEncoder,
    positives: Sequence[Image.Image],
    negatives: Sequence[Image.Image] = (),
    method: Method = "prototype",
    background: np.ndarray | Sequence[Image.Image] | None = None,
    hints: Sequence[str] | None = None,
) -> ConceptVectors:
    """Encode a concept's examples and return its prototype or probe for the bundle."""
    pos = _encode_images(encoder, positives, "positive images")
    if hints:
        texts = unit_rows(encoder.encode_texts(list(hints)), len(hints), encoder.dim, "hints")
        pos = np.vstack([pos, texts])
    neg = _encode_images(encoder, negatives, "negative images")
    if method == "prototype":
        return ConceptVectors(method, encoder.pin.name, prototype_vector(pos, neg), 0.0)
    if method != "linear_probe":
        raise InputError(f"unknown concept method {method!r}; use prototype or linear_probe")
    if background is not None:
        neg = np.vstack([neg, _encode_images(encoder, background, "background")])
    weights, bias = fit_linear_probe(pos, neg)
    return ConceptVectors(method, encoder.pin.name, weights, bias)


class StackedConcepts:
    """Every concept of one encoder as one matrix, so a batch scores in one product."""

    def __init__(self, concepts: Sequence[Concept], dim: int) -> None:
        self.concepts = tuple(concepts)
        self.matrix = np.zeros((len(self.concepts), dim), dtype=np.float32)
        for i, concept in enumerate(self.concepts):
            self.matrix[i] = concept.vector
        self.bias = np.array([c.bias for c in self.concepts], dtype=np.float64)
        self.is_probe = np.array([c.method == "linear_probe" for c in self.concepts])

    def score(self, vectors: np.ndarray) -> np.ndarray:
        """Return (b, k) scores: cosine for prototypes, probability for probes."""
        raw = (vectors @ self.matrix.T).astype(np.float64)
        return np.where(self.is_probe, sigmoid(raw + self.bias), raw)
