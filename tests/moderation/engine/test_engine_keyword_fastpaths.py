"""The fast keyword paths give the reference path's matches and spans on random texts.

Reference: a keyword set compiled with `boundary_keys=False` (one plain
automaton, a boundary check per hit) matching each text after the general
`normalize()`. The fast paths: ASCII prompts folded one for one (`match`),
batches with the ASCII texts that path takes folded as one (PlainTexts) and
the other texts joined into groups, with one marked text shared by every set
(`match_batch`, `find_batch`), and the numpy search for split words in long
texts.
"""

import random
import re

import numpy as np
import pytest

from bench.corpus import prompts, terms
from moderation.engine.bundle import KeywordSet, MatchOptions
from moderation.engine.decision import Action
from moderation.engine.keywords import CompiledKeywordSet
from moderation.engine.normalize import (
    non_ascii_chars,
    normalize,
    plain_ascii,
    plain_folder,
    repeats,
)
from moderation.engine.normalize.plain import PLAIN_BELOW
from moderation.engine.normalize.repeats import squeeze_repeats
from moderation.engine.normalize.separators import (
    _ANY_NON_ASCII,
    _NON_ASCII_SEPARATORS,
    ANY,
    SHAPE_VECTORISE_FROM,
    STRICT,
    split_candidates,
    split_words,
    splitter_for,
    text_shape,
)
from moderation.engine.textbatch import JOIN_CHAR, PlainTexts, normalize_batch
from moderation.engine.wordkeys import marked_text

TERMS = ("sex", "porn", "sex toys", "(sex)", "kill", "x", "女优", "av女优", "москва", "café")
ALLOW = ("sussex", "sex toys education")
ASCII_PIECES = [
    "sex", "SEX", "s.e.x", "s e x", "s - e - x", "s..e..x", "$ex", "s3x", "5ex!", "p0rn",
    "P|0rn", "k!ll", "ki11", "@", "+", "|", "?", "(sex)", "sex toys", "sussex", "sexy",
    "x", "a", "b c", " ", ", ", ".", "-", "_", "e.g.", "4k", "photo of a cat", "\x01", "\x00",
    "sseexx", "kiill", "ss", "x x", "(", "#", "s(x", "<", "[", "{", "s,e,x", "; ", "?",
    "s*_*e", " - - ", "a s e x", "s e x a", "x s.e.x x", "a ", " i",
    "$.e.x", "s-@-x", "$ e x", "a-@-b", "@-$-!", "s.e.x!", "k.!.l.l",
]  # fmt: skip
OTHER_PIECES = [
    "ｓｅｘ", "ѕех", "ѕ.е.х", "Ｓ Ｅ Ｘ", "看", "av女优", "女优です", "Москва", "МОСКВА",
    "café", "ΑΒΓ", "\u00a0", "\u3000", "·", "s\u00a0e\u00a0x", "🙂", "ไม่",
    "se\u200bx", "e\u0301", "Straße", "ﬁ", "séx", "s\u0301\u0302e\u0336x", "ѕѕ", "éé", "€", "£",
    "¥", "©", "…", "s€e€x", "s-€-x", "$.ё.x", "5-€-10",
]  # fmt: skip
OPTIONS = [
    MatchOptions(),
    MatchOptions(mode="substring"),
    MatchOptions(leetspeak=False, homoglyphs=False),
    MatchOptions(ignore_separators=False, casefold=False),
    MatchOptions(accents=False, squeeze_repeats=False, leet_symbols=False),
    MatchOptions(leetspeak=False, squeeze_repeats=False),
    MatchOptions(any_separators=False),
    MatchOptions(squeeze_repeats=True),
    MatchOptions(one_letter_words=False, mode="substring"),
    MatchOptions(mode="substring", squeeze_repeats=False, nfkc=False),
]


def compiled(options: MatchOptions, *, boundary_keys: bool = True) -> CompiledKeywordSet:
    keyword_set = KeywordSet("k", "t", Action.BLOCK, TERMS, ALLOW, options)
    return CompiledKeywordSet(keyword_set, boundary_keys=boundary_keys)


def random_text(rng: random.Random, pieces: list[str], longest: int = 14) -> str:
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, longest)))


def reference_matches(reference: CompiledKeywordSet, text: str) -> list:
    return reference.find(normalize(text, reference.options))


@pytest.mark.parametrize("options", OPTIONS)
def test_ascii_prompts_match_like_the_reference(options):
    fast, reference = compiled(options), compiled(options, boundary_keys=False)
    rng = random.Random(11)
    for _ in range(4_000):
        text = random_text(rng, ASCII_PIECES)
        assert fast.match(text) == reference_matches(reference, text), repr(text)


def test_plain_ascii_fold_is_the_normalised_text_with_its_spans_or_declines():
    rng = random.Random(12)
    for options in OPTIONS:
        taken = 0
        for _ in range(2_000):
            text = random_text(rng, ASCII_PIECES)
            plain, norm = plain_ascii(text, options), normalize(text, options)
            if plain is None:
                continue
            taken += 1
            assert plain.text == norm.text, repr(text)
            for start in range(len(norm.text)):
                for end in range(start + 1, len(norm.text) + 1):
                    assert plain.span(start, end) == norm.span(start, end), (text, start, end)
        assert taken > 200, options  # the fast path is taken, not always declined
    assert plain_ascii("s.e.x", MatchOptions()) is None  # a split word to join
    assert plain_ascii("$ex", MatchOptions()) is None  # a leetspeak symbol
    assert plain_ascii("x" * 5_000, MatchOptions()) is None  # long: the numpy paths


def test_plain_ascii_squeezes_letters_only_and_maps_runs_back():
    plain = plain_ascii("cooool... 2000  bee", MatchOptions(leetspeak=False, squeeze_repeats=True))
    assert plain.text == "col... 2000  be"
    assert plain.span(0, 3) == (0, 6)  # "col" is "cooool"
    assert plain.span(13, 15) == (16, 19)  # "be" is "bee"
    assert plain_ascii("cool", MatchOptions()).drops is None  # squeezing off


def test_a_batch_of_one_prompt_matches_like_the_reference():
    for options in OPTIONS:
        fast, reference = compiled(options), compiled(options, boundary_keys=False)
        rng = random.Random(16)
        for _ in range(500):
            text = random_text(rng, ASCII_PIECES + OTHER_PIECES)
            expected = reference_matches(reference, text)
            assert fast.match_batch([text]) == [expected] == [fast.match(text)], repr(text)
            # evaluate() normalises a batch once for every set, then finds in it.
            assert fast.find_batch(normalize_batch([text], options)) == [expected], repr(text)


@pytest.mark.parametrize("options", OPTIONS)
def test_mixed_batches_match_like_the_reference(options):
    fast, reference = compiled(options), compiled(options, boundary_keys=False)
    rng = random.Random(13)
    for _ in range(12):
        texts = [
            random_text(rng, ASCII_PIECES if rng.random() < 0.8 else ASCII_PIECES + OTHER_PIECES)
            for _ in range(rng.randint(1, 300))
        ]
        # Long texts: more non-ASCII groups, and one text on the general path.
        texts += [random_text(rng, OTHER_PIECES, 400), random_text(rng, OTHER_PIECES, 3_000)]
        rng.shuffle(texts)
        expected = [reference_matches(reference, text) for text in texts]
        assert fast.match_batch(texts) == expected
        assert [fast.match(text) for text in texts] == expected


@pytest.mark.parametrize("options", OPTIONS)
def test_ascii_texts_the_fast_path_takes_are_normalised_joined(options):
    # PlainTexts: the batch's ASCII texts that PlainFolder.take takes, whatever their
    # length, folded as one; normalize() of them joined is the reference.
    folder, rng = plain_folder(options), random.Random(17)
    for _ in range(20):
        texts = [random_text(rng, ASCII_PIECES) for _ in range(rng.randint(2, 200))]
        texts += ["a cool photo of a cat, " * 200, "é"]  # past PLAIN_BELOW; not ASCII
        plain = [g for g in normalize_batch(texts, options).joined if isinstance(g, PlainTexts)]
        taken = [
            i
            for i, text in enumerate(texts)
            if text.isascii() and (len(text) >= PLAIN_BELOW or folder.take(text) is not None)
        ]
        assert [group.rows for group in plain] == [taken]
        reference = normalize(JOIN_CHAR.join(texts[i] for i in taken), options)
        group = plain[0]
        assert (group.text(), group.marked()) == (reference.text, marked_text(reference.text))
        assert group.norm.original == reference.original
        size = len(reference.text)
        starts = np.array([rng.randrange(size) for _ in range(200)])
        ends = np.array([rng.randint(a + 1, min(a + 9, size)) for a in starts.tolist()])
        expected = [reference.span(a, b) for a, b in zip(starts, ends, strict=True)]
        mapped = group.spans(starts, ends)
        assert list(zip(*(a.tolist() for a in mapped), strict=True)) == expected
        assert [group.norm.span(a, b) for a, b in zip(starts, ends, strict=True)] == expected


@pytest.mark.parametrize("options", [MatchOptions(), MatchOptions(squeeze_repeats=True)])
def test_bench_prompts_match_in_batches_like_the_reference(options):
    keyword_set = KeywordSet("k", "t", Action.BLOCK, tuple(terms(3_000)), ALLOW, options)
    fast = CompiledKeywordSet(keyword_set)
    reference = CompiledKeywordSet(keyword_set, boundary_keys=False)
    texts, planted = prompts(300_000, terms(3_000), seed=5)
    expected = [reference_matches(reference, text) for text in texts]
    assert planted
    assert sum(map(len, expected)) > 200  # the corpus does match
    for start in range(0, len(texts), 256):
        assert fast.match_batch(texts[start : start + 256]) == expected[start : start + 256]


def test_keyword_sets_sharing_a_batch_each_match_like_the_reference():
    options = MatchOptions()
    other = KeywordSet("k2", "t", Action.FLAG, ("toys", "ѕ", "москва"), ("sex toys",), options)
    sets = [compiled(options), CompiledKeywordSet(other)]
    references = [CompiledKeywordSet(ks.keyword_set, boundary_keys=False) for ks in sets]
    rng = random.Random(14)
    texts = [random_text(rng, ASCII_PIECES + OTHER_PIECES) for _ in range(500)]
    batch = normalize_batch(texts, options)
    for ks, reference in zip(sets, references, strict=True):
        assert ks.find_batch(batch) == [reference_matches(reference, t) for t in texts]
    for group in batch.joined:
        assert group.marked() == marked_text(group.norm.text)


def test_batch_spans_point_at_the_original_characters():
    texts = ["an s.e.x here", "ѕ.е.х, s e x", "plain", "看av女优", "ｓｅｘ, Москва"]
    # (With any separators, the comma would join "ѕ.е.х" and "s e x" into one word.)
    found = compiled(MatchOptions(any_separators=False)).match_batch(texts)
    spans = [
        [(m.term, text[m.start : m.end]) for m in matches]
        for text, matches in zip(texts, found, strict=True)
    ]
    assert spans == [
        [("sex", "s.e.x")],
        [("sex", "ѕ.е.х"), ("sex", "s e x")],
        [],
        [("av女优", "av女优"), ("女优", "女优")],  # by end, the longest first
        [("sex", "ｓｅｘ"), ("москва", "Москва")],
    ]


@pytest.mark.parametrize(
    "splitter",
    [
        STRICT,
        ANY,
        splitter_for(MatchOptions()),  # leetspeak symbols are letters of split words
        splitter_for(MatchOptions(any_separators=False)),
    ],
)
def test_long_split_word_search_finds_what_the_regex_finds(splitter):
    rng = random.Random(15)
    alphabet = ["a", "b", " ", ".", "-", "  ", "x y", "é", "\u00a0", "?", ",", "ab", "\x00", "ｓ"]
    alphabet += ["…", "€", "; ", "(", "_", "*", "\x02", "- - -", "@", "$", "!", "#", "£", "|"]
    for _ in range(30):
        text = random_text(rng, alphabet, 2_000)
        shape = text_shape(text, splitter)
        if len(shape) >= SHAPE_VECTORISE_FROM:  # the numpy search
            every = [at for at in range(len(shape)) if splitter.shape_re.match(shape, at)]
            assert split_candidates(shape, splitter) == every
        expected = [m.span() for m in splitter.word_re.finditer(text)]
        assert [m.span() for m in split_words(text, None, splitter)] == expected
        short = text[:300]  # the regex search of short shapes
        expected = [m.span() for m in splitter.word_re.finditer(short)]
        assert [m.span() for m in split_words(short, None, splitter)] == expected


@pytest.mark.parametrize(
    ("splitter", "pattern"),
    [(ANY, _ANY_NON_ASCII), (STRICT, f"[{_NON_ASCII_SEPARATORS}]")],
    ids=["any", "strict"],
)
def test_non_ascii_separator_scan_finds_what_its_pattern_finds(splitter, pattern):
    # The scan skips ASCII but '?' with a leading class: every code point, and
    # lone surrogates among them, is replaced as the pattern alone replaces it.
    every = "".join(map(chr, range(0x110000)))
    assert splitter.non_ascii_separator_re.sub(".", every) == re.sub(pattern, ".", every)


def test_non_ascii_characters_are_found_in_order():
    rng = random.Random(16)
    pool = [*ASCII_PIECES, *OTHER_PIECES, "\ud800", "\U0001f600", "\U000e0041"]
    for _ in range(2_000):
        text = random_text(rng, pool)
        assert non_ascii_chars(text) == "".join(re.findall(r"[^\x00-\x7f]", text))


def test_short_ascii_squeeze_gives_what_the_numpy_squeeze_gives(monkeypatch):
    rng = random.Random(16)
    texts = [
        random_text(rng, ["a", "A", "bb", ". ", "1", "xx", "aa", " "], 40) for _ in range(2_000)
    ]
    short = [squeeze_repeats(text) for text in texts]
    monkeypatch.setattr(repeats, "_NUMPY_FROM", 0)
    for text, (squeezed, firsts, lasts) in zip(texts, short, strict=True):
        again = squeeze_repeats(text)
        assert squeezed == again[0], repr(text)
        as_lists = [None if a is None else a.tolist() for a in (firsts, lasts)]
        assert as_lists == [None if a is None else a.tolist() for a in again[1:]], repr(text)
