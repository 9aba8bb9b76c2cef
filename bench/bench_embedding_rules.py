"""Embedding rules: one prompt against 100k example vectors vs a bare numpy product.

Run: python bench/bench_embedding_rules.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moderation.engine.bundle import EmbeddingSet  # noqa: E402
from moderation.engine.decision import Action  # noqa: E402
from moderation.engine.embedding_rules import StackedEmbeddingSets  # noqa: E402

DIM = 384
EXAMPLES = 100_000
REPEATS = 50


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    m = rng.standard_normal((n, DIM)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def make_sets(rng, sets: int, counters_per_set: int) -> list[EmbeddingSet]:
    per_set = EXAMPLES // sets
    result = []
    for i in range(sets):
        names = tuple(f"example {i}.{j}" for j in range(per_set))
        counter_names = tuple(f"counter {i}.{j}" for j in range(counters_per_set))
        result.append(
            EmbeddingSet(f"s{i}", f"set {i}", Action.REVIEW, 0.8, "minilm", names,
                         unit_rows(rng, per_set), counter_names,
                         unit_rows(rng, counters_per_set))
        )  # fmt: skip
    return result


def best_pair(engine_fn, bare_fn) -> tuple[float, float]:
    """Return the fastest of REPEATS runs of each, interleaved so both see the same load."""
    engine_fn(), bare_fn()
    engine, bare = [], []
    for _ in range(REPEATS):
        for fn, times in ((engine_fn, engine), (bare_fn, bare)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return min(engine), min(bare)


def compare(label: str, stacked: StackedEmbeddingSets, prompts: np.ndarray) -> None:
    matrix = np.vstack([stacked.examples, stacked.counters])
    engine, bare = best_pair(lambda: stacked.score(prompts), lambda: prompts @ matrix.T)
    print(
        f"{label:<42} engine {engine * 1e3:7.2f} ms   bare product {bare * 1e3:7.2f} ms   "
        f"ratio {engine / bare:.2f}x"
    )


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{EXAMPLES} example vectors of {DIM} dimensions, best of {REPEATS} runs")
    for sets, counters in ((1, 0), (100, 0), (100, 100)):
        stacked = StackedEmbeddingSets(make_sets(rng, sets, counters), DIM)
        rows = EXAMPLES + sets * counters
        for batch in (1, 32):
            prompts = unit_rows(rng, batch)
            compare(f"{sets} set(s), {rows} rows, batch {batch}", stacked, prompts)


if __name__ == "__main__":
    main()
