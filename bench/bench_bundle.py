"""Bundle size, load time and memory for 100k terms + 10k example vectors + 50 concepts.

Run: python bench/bench_bundle.py
"""

from __future__ import annotations

import gc
import hashlib
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import terms  # noqa: E402
from moderation.engine.bundle import (
    Bundle,
    Concept,
    EmbeddingSet,
    KeywordSet,
    MatchOptions,
    PolicyInfo,
)
from moderation.engine.compiled import compile_bundle  # noqa: E402
from moderation.engine.decision import Action  # noqa: E402
from moderation.engine.models.base import ModelPin  # noqa: E402

TEXT_DIM, IMAGE_DIM = 384, 512
EMBEDDING_SETS, EXAMPLES_PER_SET = 20, 500
CONCEPTS = 50


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    m = rng.standard_normal((n, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def pin(name: str) -> ModelPin:
    return ModelPin(name, f"{name} bench", hashlib.sha256(name.encode()).hexdigest())


def build() -> Bundle:
    rng = np.random.default_rng(0)
    embedding_sets = tuple(
        EmbeddingSet(f"emb-{i}", f"set {i}", Action.REVIEW, 0.8, "minilm",
                     tuple(f"example phrase {i}.{j}" for j in range(EXAMPLES_PER_SET)),
                     unit_rows(rng, EXAMPLES_PER_SET, TEXT_DIM))
        for i in range(EMBEDDING_SETS)
    )  # fmt: skip
    concepts = tuple(
        Concept(f"concept-{i}", f"concept {i}", Action.FLAG,
                "prototype" if i % 2 else "linear_probe", 0.5, "clip",
                unit_rows(rng, 1, IMAGE_DIM)[0], 0.0 if i % 2 else -1.5)
        for i in range(CONCEPTS)
    )  # fmt: skip
    return Bundle.create(
        policy=PolicyInfo("bench", "big", "Big policy", 1, 1),
        pins={"minilm": pin("minilm"), "clip": pin("clip")},
        dims={"minilm": TEXT_DIM, "clip": IMAGE_DIM},
        keyword_sets=(
            KeywordSet("kw", "100k terms", Action.BLOCK, tuple(terms(100_000)), (), MatchOptions()),
        ),
        embedding_sets=embedding_sets,
        concepts=concepts,
    )


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<46} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    print(f"100000 terms, {EMBEDDING_SETS * EXAMPLES_PER_SET} example vectors of {TEXT_DIM} "
          f"dimensions, {CONCEPTS} concepts of {IMAGE_DIM}")  # fmt: skip
    bundle = timed("Bundle.create (validates)", build)
    data = timed("to_bytes (canonical JSON)", bundle.to_bytes)
    print(f"{'bundle size':<46} {len(data) / 1e6:7.1f} MB")
    timed("sha256 of the bytes", lambda: hashlib.sha256(data).hexdigest())
    del bundle
    gc.collect()
    before = rss_mib()
    start = time.perf_counter()
    loaded = Bundle.from_bytes(data)
    parse_s = time.perf_counter() - start
    gc.collect()
    parsed = rss_mib()
    start = time.perf_counter()
    compiled = compile_bundle(loaded)
    compile_s = time.perf_counter() - start
    gc.collect()
    print(f"{'from_bytes (parse, validate, canonical check)':<46} {parse_s:7.2f} s")
    print(f"{'compile (automaton, stacked matrices)':<46} {compile_s:7.2f} s")
    print(f"{'load_bundle total':<46} {parse_s + compile_s:7.2f} s")
    print(f"{'RSS growth: parsed bundle':<46} {parsed - before:7.0f} MiB")
    print(f"{'RSS growth: compiled (automaton, matrices)':<46} {rss_mib() - parsed:7.0f} MiB")
    del loaded, compiled
    gc.collect()
    tracemalloc.start()
    compiled = compile_bundle(Bundle.from_bytes(data))
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{'traced memory kept by the loaded bundle':<46} {current / 2**20:7.0f} MiB")
    print(f"{'traced peak while loading':<46} {peak / 2**20:7.0f} MiB")
    size = sum(a.get_stats()["total_size"] for a in compiled.keyword_sets[0].automata())
    print(f"{'automaton size (pyahocorasick get_stats)':<46} {size / 2**20:7.0f} MiB")


if __name__ == "__main__":
    main()
