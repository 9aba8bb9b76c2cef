"""Boundary-marked keys and the fast folding paths agree with the general ones."""

import random

import numpy as np
import pytest

from moderation.engine.normalize import MatchOptions, normalize
from moderation.engine.normalize.folder import fold_mixed, folder_for
from moderation.engine.wordkeys import MARK, _codes, _word_codes, marked_text, needs_boundary

# Code points around the edges that matter: ASCII, Latin, combining marks,
# Cyrillic, CJK, surrogates, private use, astral letters and marks, tags.
POOL = [
    chr(c)
    for block in (
        range(0, 0x600),
        range(0x0E00, 0x0E80),
        range(0x3000, 0x3100),
        range(0x4E00, 0x4E40),
        range(0xD7F0, 0xE010),
        range(0xF8F0, 0x10100),
        range(0x1D400, 0x1D500),
        range(0x1F300, 0x1F400),
        range(0x20000, 0x20010),
        range(0xE0000, 0xE0200),
        range(0x10FFF0, 0x110000),
    )
    for c in block
]


def random_texts(seed: int, count: int, longest: int = 40) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(POOL) for _ in range(rng.randint(0, longest))) for _ in range(count)]


def test_marked_text_marks_exactly_the_characters_that_need_no_boundary():
    for text in random_texts(1, 300):
        expected = "".join(c if needs_boundary(c) else MARK for c in text)
        assert marked_text(text) == MARK + expected + MARK, repr(text)


def test_regex_and_numpy_marking_agree():
    for text in random_texts(2, 3_000):
        codes = _codes(text)
        by_numpy = np.where(_word_codes(codes), codes, np.uint32(ord(MARK)))
        expected = MARK + by_numpy.tobytes().decode("utf-32-le", "surrogatepass") + MARK
        assert marked_text(text) == expected, repr(text)


@pytest.mark.parametrize(
    "options",
    [MatchOptions(), MatchOptions(casefold=False, leetspeak=False), MatchOptions(nfkc=False)],
)
def test_translate_folding_equals_the_general_path(options):
    folder = folder_for(options)
    for text in [*random_texts(3, 2_000), "ｓｅｘ", "ѕех and café", "Straße", "se\u200bx"]:
        if folder.aligned(text):
            folded, starts, ends = fold_mixed(text, folder)
            assert folder.fold_chars(text) == folded, repr(text)
            assert starts.tolist() == list(range(len(text))), repr(text)
            assert ends.tolist() == list(range(1, len(text) + 1)), repr(text)


def test_ascii_characters_fold_alike_in_every_path():
    for options in (MatchOptions(), MatchOptions(casefold=False), MatchOptions(leetspeak=False)):
        folder = folder_for(options)
        for code in range(128):
            assert folder.fold(chr(code)) == folder.ascii_table.get(code, chr(code)), code


def test_short_and_long_non_ascii_texts_normalise_alike():
    piece = "ok ｓｅｘ, ѕех! café 東京 s.e.x $ex "
    norm = normalize(piece * 300, MatchOptions())  # long: the general path
    short = normalize(piece, MatchOptions())
    assert norm.text == short.text * 300
    for i in range(len(short.text)):
        assert norm.span(i, i + 1) == short.span(i, i + 1)


def test_non_ascii_batches_split_into_groups_that_match_like_one_by_one():
    from moderation.engine.bundle import KeywordSet
    from moderation.engine.decision import Action
    from moderation.engine.keywords import CompiledKeywordSet
    from moderation.engine.textbatch import normalize_batch

    terms = ("sex", "москва", "東京", "café", "porn")
    ks = CompiledKeywordSet(KeywordSet("k", "t", Action.BLOCK, terms, (), MatchOptions()))
    rng = random.Random(5)
    pieces = ["Москва", "東京の夜景", "café", "ѕех", " ", ", ", "s.e.x", "P0RN", "sex"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 30))) for _ in range(400)]
    texts += ["Straße sex", "e\u0301 sex", "plain sex"]  # one by one, and ASCII
    batch = normalize_batch(texts, ks.options)
    assert len(batch.joined) > 2  # ASCII and non-ASCII texts, then more non-ASCII groups
    non_ascii = [[i for i in group.rows if not texts[i].isascii()] for group in batch.joined]
    assert all(sum(len(texts[i]) + 1 for i in rows) < 4096 for rows in non_ascii)
    assert all(i not in batch.singles for i in batch.joined[0].rows)
    assert ks.find_batch(batch) == [ks.match(t) for t in texts]
