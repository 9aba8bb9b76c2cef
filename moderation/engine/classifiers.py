"""Trained classifiers: the features they read and one matrix product that scores them all.

A classifier's features are its encoder's unit vector followed by named model
outputs ("nudenet.FEMALE_BREAST_EXPOSED", "opennsfw.nsfw"; an output a scorer
left out counts as 0). Its score is Platt-calibrated logistic regression on the
standardised features: sigmoid(a * z + b) with z = ((x - mean) / scale) . w + c.
The standardisation is folded into the weights when a bundle is compiled, so a
batch costs one (n, d) x (d, k) product per target, whatever k is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from moderation.engine.bundle.types import Classifier
from moderation.engine.concepts import sigmoid


def feature_matrix(
    vectors: np.ndarray, scores: Sequence[Mapping[str, float]], outputs: Sequence[str]
) -> np.ndarray:
    """Return (n, dim + len(outputs)) float64 features: each vector, then its output scores."""
    vectors = np.asarray(vectors, dtype=np.float64)
    extra = np.zeros((len(vectors), len(outputs)), dtype=np.float64)
    for row, values in enumerate(scores):
        for col, name in enumerate(outputs):
            extra[row, col] = float(values.get(name, 0.0))
    return np.hstack([vectors, extra])


def folded(classifier: Classifier) -> tuple[np.ndarray, float]:
    """Return (weights, bias) acting on raw features: the scaler folded into the weights."""
    scale = classifier.scale.astype(np.float64)
    weights = classifier.weights.astype(np.float64) / scale
    bias = classifier.bias - float(weights @ classifier.mean.astype(np.float64))
    return weights, bias


def classifier_scores(classifier: Classifier, features: np.ndarray) -> np.ndarray:
    """Return one classifier's calibrated probabilities for (n, width) raw features."""
    weights, bias = folded(classifier)
    z = np.asarray(features, dtype=np.float64) @ weights + bias
    return sigmoid(classifier.platt_a * z + classifier.platt_b)


class StackedClassifiers:
    """Every classifier of one target and encoder as one matrix over the union of outputs."""

    def __init__(self, classifiers: Sequence[Classifier], dim: int) -> None:
        self.classifiers = tuple(classifiers)
        self.dim = dim
        self.outputs = tuple(sorted({o for c in self.classifiers for o in c.outputs}))
        column = {name: dim + i for i, name in enumerate(self.outputs)}
        self.matrix = np.zeros((dim + len(self.outputs), len(self.classifiers)), dtype=np.float64)
        self.bias = np.zeros(len(self.classifiers), dtype=np.float64)
        for k, classifier in enumerate(self.classifiers):
            weights, self.bias[k] = folded(classifier)
            self.matrix[:dim, k] = weights[:dim]
            for i, name in enumerate(classifier.outputs):
                self.matrix[column[name], k] = weights[dim + i]
        self.platt_a = np.array([c.platt_a for c in self.classifiers], dtype=np.float64)
        self.platt_b = np.array([c.platt_b for c in self.classifiers], dtype=np.float64)

    def score(self, vectors: np.ndarray, scores: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Return (n, k) probabilities for n inputs' vectors and output scores."""
        z = feature_matrix(vectors, scores, self.outputs) @ self.matrix + self.bias
        return sigmoid(self.platt_a * z + self.platt_b)
