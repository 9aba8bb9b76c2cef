"""Pathological texts are judged in bounded time that grows about linearly with their length."""

import time

import pytest

from moderation.engine.bundle import KeywordSet, MatchOptions
from moderation.engine.decision import Action
from moderation.engine.keywords import CompiledKeywordSet

# Every folding on, squeezing repeats too: the slowest options.
EVERYTHING = MatchOptions(squeeze_repeats=True)
PILE = "".join(chr(0x300 + i % 0x70) for i in range(10_000))  # 10k marks on one letter
UNITS = {
    "separators": ".*_ /-,",
    "split letters": "a.",
    "one-letter words": "a a n.u.d ",
    "zero-width": "\u200b",
    "accented letters": "a\u0301",
    "marks on one letter": "n" + PILE,
    "homoglyphs": "ѕех ",
}


def _judge_seconds(compiled: CompiledKeywordSet, unit: str, length: int) -> float:
    text = (unit * (length // len(unit) + 1))[:length]
    started = time.perf_counter()
    compiled.match(text)
    return time.perf_counter() - started


@pytest.mark.parametrize("unit", UNITS.values(), ids=UNITS.keys())
def test_a_pathological_text_is_judged_in_linear_bounded_time(unit):
    keyword_set = KeywordSet("k", "t", Action.BLOCK, ("nude", "sex", "anal"), (), EVERYTHING)
    compiled = CompiledKeywordSet(keyword_set)
    small = min(_judge_seconds(compiled, unit, 2**16) for _ in range(2))
    large = min(_judge_seconds(compiled, unit, 2**18) for _ in range(2))
    assert large < 5, f"{2**18:,} characters took {large:.1f} s"
    # Four times the text: linear is about 4x, quadratic 16x. The floor keeps
    # timer noise on tiny times from failing the test.
    assert large < 10 * max(small, 0.02), (small, large)


def test_a_megabyte_of_mixed_separators_still_finds_the_word_in_it():
    text = "-, " * 170_000 + "n.u.d.e " + " .*_/" * 100_000
    keyword_set = KeywordSet("k", "t", Action.BLOCK, ("nude",), (), EVERYTHING)
    started = time.perf_counter()
    found = [(m.term, m.text) for m in CompiledKeywordSet(keyword_set).match(text)]
    assert found == [("nude", "n.u.d.e")]
    assert time.perf_counter() - started < 5
