"""Embedding rules: a prompt's cosine to example phrases, vetoed by counter-examples.

A set fires on a prompt when its best cosine to the examples reaches the
threshold AND that nearest example is strictly closer than the nearest
counter-example. Vectors are unit length, so cosines are dot products: one
matrix product scores every prompt against every example of every set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from moderation.engine.bundle.types import EmbeddingSet
from moderation.engine.errors import ModelOutputError
from moderation.engine.models.base import TextEncoder


@dataclass(frozen=True)
class EmbeddingScores:
    """One set's scores for a batch of prompts (arrays of length b)."""

    score: np.ndarray  # best cosine to an example
    example: np.ndarray  # index of that example
    counter_score: np.ndarray  # best cosine to a counter-example, -inf when there are none
    counter: np.ndarray  # index of that counter-example, -1 when there are none
    fired: np.ndarray  # bool


def _offsets(counts: list[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


class StackedEmbeddingSets:
    """Every set's example vectors, then every set's counter vectors, in one matrix built once.

    One matrix, so a batch is scored with one product; `examples` and
    `counters` are views of its two parts.
    """

    def __init__(self, sets: Sequence[EmbeddingSet], dim: int) -> None:
        self.sets = tuple(sets)
        self.dim = dim
        examples = [s.example_vectors for s in self.sets]
        self.matrix = _stack(examples + [s.counter_vectors for s in self.sets], dim)
        self.example_offsets = _offsets([len(s.examples) for s in self.sets])
        self.counter_offsets = _offsets([len(s.counter_examples) for s in self.sets])
        n_examples = int(self.example_offsets[-1])
        self.examples, self.counters = self.matrix[:n_examples], self.matrix[n_examples:]
        self.thresholds = np.array([s.threshold for s in self.sets], dtype=np.float32)

    def score(self, vectors: np.ndarray) -> list[EmbeddingScores]:
        """Score a (b, dim) batch of unit prompt vectors against every set."""
        product = vectors @ self.matrix.T
        n_examples = len(self.examples)
        sims, counter_sims = product[:, :n_examples], product[:, n_examples:]
        return [self._score_set(i, sims, counter_sims) for i in range(len(self.sets))]

    def _score_set(self, i: int, sims: np.ndarray, counter_sims) -> EmbeddingScores:
        rows = np.arange(sims.shape[0])
        best, idx = _segment_max(sims, self.example_offsets[i], self.example_offsets[i + 1], rows)
        lo, hi = self.counter_offsets[i], self.counter_offsets[i + 1]
        if hi > lo:
            cbest, cidx = _segment_max(counter_sims, lo, hi, rows)
        else:
            cbest = np.full(len(rows), -np.inf, dtype=np.float32)
            cidx = np.full(len(rows), -1, dtype=np.int64)
        fired = (best >= self.thresholds[i]) & (best > cbest)
        return EmbeddingScores(best, idx, cbest, cidx, fired)


def _segment_max(sims: np.ndarray, lo: int, hi: int, rows: np.ndarray):
    segment = sims[:, lo:hi]
    idx = segment.argmax(axis=1)
    return segment[rows, idx], idx


def _stack(matrices: list[np.ndarray | None], dim: int) -> np.ndarray:
    parts = [m for m in matrices if m is not None and len(m)]
    if not parts:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


def explain(es: EmbeddingSet, scores: EmbeddingScores, row: int) -> dict[str, Any]:
    """Return the explanation for prompt `row`: nearest example and nearest counter-example."""
    result: dict[str, Any] = {
        "nearest_example": es.examples[int(scores.example[row])],
        "similarity": float(scores.score[row]),
    }
    if scores.counter[row] >= 0:
        result["nearest_counter_example"] = es.counter_examples[int(scores.counter[row])]
        result["counter_similarity"] = float(scores.counter_score[row])
        result["vetoed_by_counter_example"] = bool(
            scores.score[row] >= es.threshold and not scores.fired[row]
        )
    return result


def unit_rows(matrix: np.ndarray, rows: int, dim: int, what: str) -> np.ndarray:
    """Check a model's (rows, dim) output and return it as unit float32 rows."""
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.shape != (rows, dim):
        raise ModelOutputError(f"{what} returned shape {matrix.shape}, expected {(rows, dim)}")
    if not np.isfinite(matrix).all():
        raise ModelOutputError(f"{what} returned NaN or infinite values")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ModelOutputError(f"{what} returned a zero vector, which has no direction")
    return (matrix / norms).astype(np.float32)


def embedding_set_vectors(
    encoder: TextEncoder, examples: Sequence[str], counter_examples: Sequence[str] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Encode a set's phrases into the unit (n, d) and (m, d) matrices a bundle stores."""
    vectors = unit_rows(encoder.encode(list(examples)), len(examples), encoder.dim, "encoder")
    if not counter_examples:
        return vectors, np.zeros((0, encoder.dim), dtype=np.float32)
    counters = encoder.encode(list(counter_examples))
    return vectors, unit_rows(counters, len(counter_examples), encoder.dim, "encoder")
