"""The robustness report: seeded evasion operators judged by the engine's own matcher."""

import unicodedata
from random import Random

import pytest

from moderation.analysis.robustness import OPERATORS, combinations, robustness_report
from moderation.analysis.robustness.operators import clusters
from moderation.engine.bundle import KeywordSet, MatchOptions
from moderation.engine.decision import Action

TERMS = ("nude", "naked", "suicide", "kill", "anal")
WORDS = ("analysis", "canal", "banal", "nudes", "skilled", "killer", "nudeness", "unrelated")


def keyword_set(terms=TERMS, **options) -> KeywordSet:
    return KeywordSet("k", "Evasions", Action.BLOCK, terms, (), MatchOptions(**options))


def by_name(report: dict) -> dict[str, dict]:
    return {row["name"]: row for row in report["operators"] + report["pairs"]}


def test_every_operator_changes_a_term_and_keeps_its_letters_recoverable():
    for op in OPERATORS:
        variant = op.rewrite("naked", Random(op.name))
        assert variant not in (None, "naked"), op.name


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("case", lambda v: v.lower() == "naked"),
        (
            "accents",
            lambda v: unicodedata.normalize("NFD", v).encode("ascii", "ignore") == b"naked",
        ),
        ("fullwidth", lambda v: unicodedata.normalize("NFKC", v) == "naked"),
        ("zero_width", lambda v: "".join(c for c in v if c.isalpha()) == "naked"),
        ("separators", lambda v: len(clusters(v)) == 9),
        ("one_letter_word", lambda v: v[:2] in ("a ", "I ")),
    ],
)
def test_operators_do_what_they_say(name, check):
    op = next(op for op in OPERATORS if op.name == name)
    for seed in range(20):
        variant = op.rewrite("naked", Random(seed))
        assert check(variant), variant


def test_splitting_operators_leave_multi_word_terms_alone():
    for name in ("separators", "mixed_separators", "one_letter_word"):
        op = next(op for op in OPERATORS if op.name == name)
        assert op.rewrite("two words", Random(0)) is None


def test_pairs_are_every_combination_of_two():
    pairs = combinations()
    assert len(pairs) == len(OPERATORS) * (len(OPERATORS) - 1) // 2
    assert "case+accents" in {p.name for p in pairs}


def test_report_is_deterministic_for_a_seed():
    first = robustness_report(keyword_set(), seed=7, words=WORDS)
    again = robustness_report(keyword_set(), seed=7, words=WORDS)
    other = robustness_report(keyword_set(), seed=8, words=WORDS)
    strip = ("seconds", "variant_seconds", "variants_per_second")
    assert {k: v for k, v in first.items() if k not in strip} == {
        k: v for k, v in again.items() if k not in strip
    }
    assert first["operators"] != other["operators"]
    assert first["variants"] > 300
    assert first["variants_per_second"] > 0


def test_the_default_foldings_catch_every_single_operator_they_cover():
    rows = by_name(robustness_report(keyword_set(), seed=1, words=WORDS))
    for name in ("case", "accents", "leetspeak", "homoglyphs", "fullwidth", "zero_width"):
        assert rows[name]["recall"] == 1.0, rows[name]["escaped"]
    for name in ("separators", "mixed_separators", "one_letter_word"):
        assert rows[name]["recall"] == 1.0, rows[name]["escaped"]


def test_an_operator_whose_folding_is_off_is_not_expected_and_escapes():
    rows = by_name(robustness_report(keyword_set(), seed=1, words=WORDS))
    squeeze = rows["squeeze_repeats"]
    assert (squeeze["expected"], squeeze["options_off"]) == (False, ["squeeze_repeats"])
    assert squeeze["recall"] < 0.5
    assert squeeze["escaped"]
    assert all(e["term"] in TERMS for e in squeeze["escaped"])
    on = by_name(robustness_report(keyword_set(squeeze_repeats=True), seed=1, words=WORDS))
    assert on["squeeze_repeats"]["expected"]
    assert on["squeeze_repeats"]["recall"] == 1.0


def test_with_every_folding_off_escaped_variants_are_listed_with_their_term():
    off = dict.fromkeys(("casefold", "accents", "homoglyphs", "nfkc"), False)
    rows = by_name(robustness_report(keyword_set(**off), seed=1, words=WORDS))
    for name in ("case", "accents", "homoglyphs", "fullwidth"):
        row = rows[name]
        assert row["recall"] < 0.5
        assert not row["expected"]
        assert row["escaped_count"] == row["variants"] - row["caught"]
        assert len(row["escaped"]) == min(10, row["escaped_count"])


def test_benign_probe_counts_false_hits_in_both_modes():
    report = robustness_report(keyword_set(), seed=1, words=WORDS)
    benign = report["benign"]
    # "nudes" is an inflection of a term, not benign; "unrelated" holds no term.
    assert benign["sources"]["word_count"] == 5  # analysis canal banal skilled killer, nudeness
    whole, substring = benign["modes"]["whole_word"], benign["modes"]["substring"]
    assert whole["false_hits"] == 0
    assert substring["false_hits"] == benign["probes"]
    assert {"text": "analysis", "terms": ["anal"]} in substring["examples"]


def test_large_sets_are_sampled():
    terms = tuple(f"term{i}x" for i in range(500))
    report = robustness_report(keyword_set(terms), seed=1, max_terms=50, words=())
    assert (report["terms_total"], report["terms_sampled"]) == (500, 50)
