"""Keyword sets: whole word vs substring, allow-lists, CJK, evasions, odd input."""

import random

import pytest

from moderation.engine.bundle import KeywordSet, MatchOptions
from moderation.engine.decision import Action
from moderation.engine.errors import BundleError
from moderation.engine.keywords import CompiledKeywordSet
from moderation.engine.normalize import normalize


def compiled(terms, allow=(), **options) -> CompiledKeywordSet:
    ks = KeywordSet("k", "test", Action.BLOCK, tuple(terms), tuple(allow), MatchOptions(**options))
    return CompiledKeywordSet(ks)


@pytest.mark.parametrize(
    "text",
    ["ｓｅｘ", "s3x", "ѕех", "s.e.x", "S E X", "se\u200bx", "sex_party", "SEX!", "$ex"],
)
def test_evasions_match_the_term(text):
    assert [m.term for m in compiled(["sex"]).match(text)] == ["sex"]


@pytest.mark.parametrize(
    ("mode", "text", "found"),
    [
        ("whole_word", "sexy", False),
        ("whole_word", "essex", False),
        ("whole_word", "the sex scene", True),
        ("whole_word", "(sex)", True),
        ("substring", "sexy", True),
        ("substring", "essex", True),
    ],
)
def test_whole_word_needs_boundaries_substring_does_not(mode, text, found):
    assert bool(compiled(["sex"], mode=mode).match(text)) is found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("I live in Sussex", False),
        ("a brass sextant", False),
        ("Sussex sex", True),  # the second match is outside the allow-listed phrase
    ],
)
def test_allow_listed_phrases_suppress_matches_inside_them(text, found):
    ks = compiled(["sex"], allow=["sussex", "sextant"], mode="substring")
    assert bool(ks.match(text)) is found


def test_match_reports_the_original_span_and_text():
    [match] = compiled(["porn"]).match("free Ｐ０ＲＮ here")
    assert (match.start, match.end, match.text, match.term) == (5, 9, "Ｐ０ＲＮ", "porn")


@pytest.mark.parametrize(
    ("terms", "text", "found"),
    [
        (["女优"], "AV女优です", True),  # CJK: no word boundaries, substring match
        (["av女优"], "xav女优", False),  # the Latin edge still needs a boundary
        (["av女优"], "看av女优", True),
        (["ไม่"], "ฉันไม่ชอบ", True),  # Thai
    ],
)
def test_cjk_and_thai_terms_match_without_word_boundaries(terms, text, found):
    assert bool(compiled(terms).match(text)) is found


def test_overlapping_terms_are_all_reported():
    terms = [m.term for m in compiled(["sex", "sex toys"]).match("sex toys")]
    assert sorted(terms) == ["sex", "sex toys"]


def test_duplicate_spellings_report_the_first_term():
    assert [m.term for m in compiled(["Sex", "SEX", "ѕех"]).match("sex")] == ["Sex"]


@pytest.mark.parametrize("text", ["", " ", "\u200b\u200b", "\ufffd\ufffd", "日本語とРусский"])
def test_odd_text_matches_nothing_and_does_not_crash(text):
    assert compiled(["sex"]).match(text) == []


def test_megabytes_of_text_are_matched():
    text = ("lorem ipsum dolor " * 120_000) + "s.e.x"
    [match] = compiled(["sex"]).match(text)
    assert text[match.start : match.end] == "s.e.x"


def test_term_that_normalises_to_nothing_is_refused_with_its_path():
    ks = KeywordSet("k", "t", Action.BLOCK, ("ok", "\u200b"), (), MatchOptions())
    with pytest.raises(BundleError, match=r"keyword_sets\[2\]\.terms\[1\]: empty after"):
        CompiledKeywordSet(ks, "keyword_sets[2]")


def test_many_terms_compile_and_match():
    terms = [f"term{i:06d}x" for i in range(50_000)]
    ks = compiled(terms, leetspeak=False)
    assert [m.term for m in ks.match("a term049999x b")] == ["term049999x"]


PIECES = [
    "sex",
    "s.e.x",
    "ѕех",
    "Sussex",
    "sextant",
    "sexy",
    " ",
    ", ",
    "_",
    "看",
    "av女优",
    "s3x!",
    "se\u200bx",
    "porn",
    "P0RN",
    "sex toys",
    "e\u0301",
    "\u00a0",
    "AV",
    "x",
]


def random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12))) for _ in range(count)]


@pytest.mark.parametrize("mode", ["whole_word", "substring"])
def test_vectorised_scan_finds_what_the_loop_finds(mode):
    ks = compiled(["sex", "porn", "sex toys", "av女优", "女优"], ["sussex", "sextant"], mode=mode)
    for text in random_texts(1, 300):
        norm = normalize(text, ks.options)
        assert ks._hits_vectorised(norm.text) == ks._hits_loop(norm.text), text


@pytest.mark.parametrize("mode", ["whole_word", "substring"])
def test_batch_matching_equals_one_by_one(mode):
    ks = compiled(["sex", "porn", "sex toys", "av女优"], ["sussex"], mode=mode)
    texts = random_texts(2, 5_000) + ["", "\x00sex\x00", "s.e.x"]
    assert ks.match_batch(texts) == [ks.match(t) for t in texts]


BOUNDARY_TERMS = [
    "sex",
    "porn",
    "sex toys",
    "sex-toys",
    "(sex)",
    "sex!",
    "!!",
    "e\u0301",
    "av女优",
    "女优",
    "x",
    "toys",
    "s e",
]
BOUNDARY_PIECES = [*PIECES, "(", ")", "-", "!", "toys", "看", "ｓｅｘ toys", "sex-toys", "\x01"]


@pytest.mark.parametrize("allow", [(), ("sussex", "sex toys", "(sex)")])
def test_boundary_keys_find_what_per_hit_checks_find(allow):
    marked = compiled(BOUNDARY_TERMS, allow)
    reference = CompiledKeywordSet(marked.keyword_set, boundary_keys=False)
    assert marked.boundary is not None
    assert reference.boundary is None
    rng = random.Random(3)
    texts = [
        "".join(rng.choice(BOUNDARY_PIECES) for _ in range(rng.randint(0, 14)))
        for _ in range(4_000)
    ]
    for text in texts:
        assert marked.match(text) == reference.match(text), text
        norm = normalize(text, marked.options).text
        assert marked._hits_vectorised(norm) == reference._hits_vectorised(norm), text
    assert marked.match_batch(texts) == [reference.match(t) for t in texts]
    long_text = " ".join(texts)
    assert marked.match(long_text) == reference.match(long_text)
