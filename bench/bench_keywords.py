"""Keyword engine throughput vs a bare Aho-Corasick automaton and a `re` alternation.

Run: python bench/bench_keywords.py [--every-folding] [--megabytes N]
(--every-folding: squeeze_repeats on too, the one folding off by default;
--megabytes: the corpus size, 10 by default).
"""

from __future__ import annotations

import argparse
import gc
import re
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple

import ahocorasick

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import prompts, terms  # noqa: E402
from moderation.analysis.robustness import robustness_report  # noqa: E402
from moderation.engine.bundle import KeywordSet, MatchOptions  # noqa: E402
from moderation.engine.decision import Action  # noqa: E402
from moderation.engine.keywords import CompiledKeywordSet  # noqa: E402
from moderation.engine.normalize import normalize, normalize_term  # noqa: E402
from moderation.engine.textbatch import normalize_batch  # noqa: E402

CORPUS_BYTES = 10 * 1024 * 1024
REPEATS = 5
RE_SLICE_SECONDS = 3.0
BATCH = 256


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Timing(NamedTuple):
    """One function's passes: the best wall time, its result, and each round's wall and
    CPU time (CPU time is what the pass itself used, whatever else the machine ran)."""

    best: float
    result: object
    wall: list[float]
    cpu: list[float]


def best_of(*fns, repeats: int = REPEATS) -> list[Timing]:
    """Time each function `repeats` times; the functions take turns, so that the load of
    a shared machine weighs on each alike."""
    wall: list[list[float]] = [[] for _ in fns]
    cpu: list[list[float]] = [[] for _ in fns]
    results: list[object] = [None] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start, start_cpu = time.perf_counter(), time.thread_time()
            results[i] = fn()
            wall[i].append(time.perf_counter() - start)
            cpu[i].append(time.thread_time() - start_cpu)
    return [Timing(min(w), r, w, c) for w, c, r in zip(wall, cpu, results, strict=True)]


def paired(engine: Timing, baseline: Timing) -> tuple[float, float]:
    """Return the medians over rounds of baseline time / engine time, wall and CPU: steadier
    than a ratio of two bests when neighbours load the machine unevenly."""
    return tuple(
        statistics.median(b / e for e, b in zip(ours, theirs, strict=True))
        for ours, theirs in ((engine.wall, baseline.wall), (engine.cpu, baseline.cpu))
    )


def engine_pass(ks: CompiledKeywordSet, texts: list[str]) -> int:
    return sum(map(len, map(ks.match, texts)))


def fleet_pass(ks: CompiledKeywordSet, texts: list[str]) -> int:
    # What the fleet agent does per request: evaluate() normalises a batch of one per
    # folding, then each keyword set finds in it (moderation/engine/evaluate.py, keywords).
    options = ks.options
    return sum(len(ks.find_batch(normalize_batch([text], options))[0]) for text in texts)


def batch_pass(ks: CompiledKeywordSet, texts: list[str]) -> int:
    found = 0
    for i in range(0, len(texts), BATCH):
        found += sum(map(len, ks.match_batch(texts[i : i + BATCH])))
    return found


def bare_automaton(ks: CompiledKeywordSet):
    """Return a plain automaton of the set's normalised terms: what a bare library user builds."""
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for index, term in enumerate(ks.keyword_set.terms):
        automaton.add_word(normalize_term(term, ks.options), index)
    automaton.make_automaton()
    return automaton


def bare_pass(automaton, texts: list[str]) -> int:
    count = 0
    for text in texts:
        for _ in automaton.iter(text):
            count += 1
    return count


def re_rate(term_list: list[str], normalized: list[str], megabytes: float) -> tuple[float, float]:
    """Return (compile seconds, MB/s) of a whole-word alternation, timed on a growing slice."""
    start = time.perf_counter()
    alternation = "|".join(re.escape(t) for t in sorted(term_list, key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")
    compile_s = time.perf_counter() - start
    count, elapsed, size = 16, 0.0, 0
    while elapsed < RE_SLICE_SECONDS and count <= len(normalized):
        chunk = normalized[:count]
        size = sum(len(t.encode()) for t in chunk)
        start = time.perf_counter()
        for text in chunk:
            pattern.findall(text)
        elapsed = time.perf_counter() - start
        count *= 4
    return compile_s, size / 1e6 / elapsed


def run(
    term_count: int,
    texts: list[str],
    megabytes: float,
    planted: dict[int, str],
    options: MatchOptions,
) -> dict:
    term_list = terms(term_count)
    gc.collect()
    before = rss_mib()
    start = time.perf_counter()
    ks = CompiledKeywordSet(
        KeywordSet("bench", "bench", Action.BLOCK, tuple(term_list), (), options)
    )
    build_s = time.perf_counter() - start
    gc.collect()
    memory = rss_mib() - before
    normalized = [normalize(t, ks.options).text for t in texts]
    bare = bare_automaton(ks)
    engine, baseline, batch, fleet = best_of(
        lambda: engine_pass(ks, texts),
        lambda: bare_pass(bare, normalized),
        lambda: batch_pass(ks, texts),
        lambda: fleet_pass(ks, texts),
    )
    assert batch.result == engine.result, "batch matching must find what one-by-one matching finds"
    assert fleet.result == engine.result, "a batch of one must find what match() finds"
    joined = "\n".join(texts)
    joined_norm = normalize(joined, ks.options).text
    engine_one, bare_one = best_of(
        lambda: len(ks.match(joined)), lambda: bare_pass(bare, [joined_norm])
    )
    re_compile_s, re_mbs = re_rate(term_list, normalized, megabytes)
    caught = sum(term in {m.term for m in ks.match(texts[i])} for i, term in planted.items())
    return {
        "terms": term_count,
        "build_s": build_s,
        "memory_mib": memory,
        "engine_mbs": megabytes / engine.best,
        "engine_paired": paired(engine, baseline),
        "batch_paired": paired(batch, baseline),
        "fleet_paired": paired(fleet, baseline),
        "fleet_mbs": megabytes / fleet.best,
        "one_paired": paired(engine_one, bare_one),
        "batch_mbs": megabytes / batch.best,
        "bare_mbs": megabytes / baseline.best,
        "engine_one_mbs": megabytes / engine_one.best,
        "bare_one_mbs": megabytes / bare_one.best,
        "re_compile_s": re_compile_s,
        "re_mbs": re_mbs,
        "matches": engine.result,
        "raw_hits": baseline.result,
        "planted": len(planted),
        "caught": caught,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every-folding", action="store_true")
    parser.add_argument("--megabytes", type=float, default=CORPUS_BYTES / 1024 / 1024)
    args = parser.parse_args()
    options = MatchOptions(squeeze_repeats=args.every_folding)
    texts, planted = prompts(int(args.megabytes * 1024 * 1024), terms(10_000))
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    print(f"corpus: {len(texts)} prompts, {megabytes:.1f} MB, {len(planted)} with an evaded term")
    print(f"options: {options.summary()}")
    for count in (10_000, 100_000):
        r = run(count, texts, megabytes, planted, options)
        print(
            f"\n{r['terms']} terms: built in {r['build_s']:.2f} s, "
            f"+{r['memory_mib']:.0f} MiB RSS; {r['matches']} whole-word matches "
            f"({r['raw_hits']} raw automaton hits); evaded terms caught: "
            f"{r['caught']}/{r['planted']}"
        )
        _row("per prompt", r["engine_mbs"], r["bare_mbs"], r["engine_paired"])
        _row("fleet (1/req)", r["fleet_mbs"], r["bare_mbs"], r["fleet_paired"])
        _row(f"batches {BATCH}", r["batch_mbs"], r["bare_mbs"], r["batch_paired"])
        _row("one text", r["engine_one_mbs"], r["bare_one_mbs"], r["one_paired"])
        print(
            f"  re alternation {r['re_mbs']:.3f} MB/s (compile {r['re_compile_s']:.1f} s; timed "
            f"on a slice, extrapolated); engine / re = {r['engine_mbs'] / r['re_mbs']:.0f}x"
        )
    report_rate()


def report_rate() -> None:
    """The robustness report's own cost on a 10,000-term set (200 terms sampled)."""
    every = MatchOptions(squeeze_repeats=True)
    keyword_set = KeywordSet("bench", "bench", Action.BLOCK, tuple(terms(10_000)), (), every)
    report = robustness_report(keyword_set, seed=1)
    print(
        f"\nrobustness report: {report['variants']:,} variants of {report['terms_sampled']} "
        f"terms in {report['variant_seconds']:.2f} s, {report['variants_per_second']:,} "
        f"variants/s; {report['benign']['probes']:,} benign probes; "
        f"{report['seconds']:.1f} s in all"
    )


def _row(label: str, engine: float, bare: float, medians: tuple[float, float]) -> None:
    print(
        f"  {label:<13} engine {engine:6.1f} MB/s   bare automaton {bare:6.1f} MB/s   "
        f"ratio {engine / bare:.2f}x (bests); medians of rounds {medians[0]:.2f}x wall, "
        f"{medians[1]:.2f}x CPU"
    )


if __name__ == "__main__":
    main()
