"""A keyword set's robustness report: recall of its compiled matcher per evasion operator,
the variants that escaped, and false hits of a benign probe in both match modes.

Pure Python over the engine's own matcher (CompiledKeywordSet), so it judges
exactly what a published bundle would. Deterministic for a seed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from random import Random

from moderation.analysis.robustness.operators import OPERATORS, Operator, combinations
from moderation.analysis.robustness.probe import WORD_LIST, english_words, phrases, words_holding
from moderation.engine.bundle.types import KeywordSet
from moderation.engine.keywords import CompiledKeywordSet

MAX_TERMS = 200
VARIANTS_PER_OPERATOR = 3
VARIANTS_PER_PAIR = 1
PROBE_WORDS_PER_TERM = 20
ESCAPED_LISTED = 10
FALSE_HITS_LISTED = 10
# Contexts a variant is judged in: alone, and inside ordinary words.
CARRIERS = (("", ""), ("see ", " now"), ("so ", "!"))


def robustness_report(
    keyword_set: KeywordSet,
    *,
    seed: int = 0,
    max_terms: int = MAX_TERMS,
    words: Sequence[str] | None = None,
) -> dict:
    """Return the report as JSON-ready data (see docs/keywords.md for its fields)."""
    started = time.perf_counter()
    terms = _sample(keyword_set.terms, max_terms, Random(f"{seed}:terms"))
    matcher = CompiledKeywordSet(keyword_set)
    plan = [(op, VARIANTS_PER_OPERATOR) for op in OPERATORS]
    plan += [(op, VARIANTS_PER_PAIR) for op in combinations()]
    cases = [_cases(op, terms, seed, per_term) for op, per_term in plan]
    # One batch for every variant: the matcher's batch path, as a suite uses it.
    found = iter(matcher.match_batch([text for group in cases for _term, text in group]))
    results = [
        _operator_result(op, group, [next(found) for _ in group], keyword_set)
        for (op, _per_term), group in zip(plan, cases, strict=True)
    ]
    operators, pairs = results[: len(OPERATORS)], results[len(OPERATORS) :]
    variants = sum(len(group) for group in cases)
    variant_seconds = time.perf_counter() - started
    benign = _benign(keyword_set, terms, english_words() if words is None else words, seed)
    return {
        "seed": seed,
        "terms_total": len(keyword_set.terms),
        "terms_sampled": len(terms),
        "mode": keyword_set.options.mode,
        "variants": variants,
        "variant_seconds": round(variant_seconds, 3),
        "variants_per_second": round(variants / variant_seconds) if variant_seconds else 0,
        "seconds": round(time.perf_counter() - started, 3),
        "operators": operators,
        "pairs": pairs,
        "benign": benign,
    }


def _sample(terms: Sequence[str], limit: int, rng: Random) -> list[str]:
    if len(terms) <= limit:
        return list(terms)
    return sorted(rng.sample(list(terms), limit))


def _cases(op: Operator, terms: list[str], seed: int, per_term: int) -> list[tuple[str, str]]:
    """(term, text) pairs: up to `per_term` variants of each term, each in a carrier phrase."""
    cases = []
    for term in terms:
        rng = Random(f"{seed}:{op.name}:{term}")
        for _ in range(per_term):
            variant = op.rewrite(term, rng)
            if variant is not None and variant != term:
                prefix, suffix = rng.choice(CARRIERS)
                cases.append((term, f"{prefix}{variant}{suffix}"))
    return cases


def _operator_result(op: Operator, cases: list, found: list, keyword_set: KeywordSet) -> dict:
    escaped = [
        {"term": term, "variant": text}
        for (term, text), matches in zip(cases, found, strict=True)
        if not matches
    ]
    off = [name for name in op.options if not getattr(keyword_set.options, name)]
    return {
        "name": op.name,
        "label": op.label,
        "example": op.example,
        "options": list(op.options),
        # Expected: every option that undoes this operator is on in the set.
        "expected": not off,
        "options_off": off,
        "variants": len(cases),
        "caught": len(cases) - len(escaped),
        "recall": round((len(cases) - len(escaped)) / len(cases), 4) if cases else None,
        "escaped_count": len(escaped),
        "escaped": escaped[:ESCAPED_LISTED],
    }


def _benign(keyword_set: KeywordSet, terms: list[str], words, seed: int) -> dict:
    rng = Random(f"{seed}:benign")
    held = words_holding(terms, words, per_term=PROBE_WORDS_PER_TERM, rng=rng)
    probe_words = sorted({word for found in held.values() for word in found})
    probes = probe_words + phrases(probe_words, rng)
    modes = {}
    for mode in ("whole_word", "substring"):
        options = dataclasses.replace(keyword_set.options, mode=mode)
        matcher = CompiledKeywordSet(dataclasses.replace(keyword_set, options=options))
        hits = [
            {"text": text, "terms": sorted({m.term for m in matches})}
            for text, matches in zip(probes, matcher.match_batch(probes), strict=True)
            if matches
        ]
        modes[mode] = {
            "false_hits": len(hits),
            "rate": round(len(hits) / len(probes), 4) if probes else None,
            "examples": hits[:FALSE_HITS_LISTED],
        }
    return {
        "sources": {
            "words": WORD_LIST,
            "word_count": len(probe_words),
            "phrases": len(probes) - len(probe_words),
        },
        "probes": len(probes),
        "terms_with_probes": len(held),
        "modes": modes,
    }
