"""Many texts normalised as one: what evaluate_batch and match_batch use."""

from __future__ import annotations

import itertools
import operator
from typing import NamedTuple

import numpy as np

from moderation.engine.normalize import (
    ALIGNED_BELOW,
    MatchOptions,
    NormalizedText,
    _folder,
    normalize,
    normalize_aligned,
)

# Joins the texts of a batch: not a word character, not a separator, and in no
# term, so matching and folding never cross from one text to the next.
JOIN_CHAR = "\x00"


class JoinedTexts(NamedTuple):
    """Texts of a batch joined with JOIN_CHAR and normalised as one text."""

    rows: list[int]  # indices in the batch of the texts joined, in order
    offsets: np.ndarray  # start of each text in norm.original
    norm: NormalizedText


class NormalizedBatch(NamedTuple):
    """Many texts normalised at once: most in joined groups, the others one by one."""

    texts: list[str]
    joined: list[JoinedTexts]
    singles: dict[int, NormalizedText]


def normalize_batch(texts: list[str], options: MatchOptions) -> NormalizedBatch:
    """Normalise many texts in a few passes where they allow it; same result as one by one.

    Joined: the ASCII texts in one group (bytes operations over the whole
    group), and in a second group the other texts that fold one character
    for one (no combining marks, invisible characters or expanding characters
    such as 'ß'), so no fold spans two texts. The rest go one by one.
    """
    flags = list(map(str.isascii, texts))
    if all(flags) and texts:
        return NormalizedBatch(texts, [_join(texts, list(range(len(texts))), options)], {})
    plain = list(itertools.compress(range(len(texts)), flags))
    others: list[int] = []
    singles: dict[int, NormalizedText] = {}
    for i in itertools.compress(range(len(texts)), map(operator.not_, flags)):
        if folds_aligned(texts[i], options):
            others.append(i)
        else:
            singles[i] = normalize(texts[i], options)
    joined = [_join(texts, rows, options) for rows in (plain, *_chunks(texts, others)) if rows]
    return NormalizedBatch(texts, joined, singles)


def folds_aligned(text: str, options: MatchOptions) -> bool:
    """Return whether `text` folds one character for one under `options` (ASCII text always
    does, before separators are joined); such texts can be normalised joined together."""
    if text.isascii():
        return True
    if len(text) >= ALIGNED_BELOW:
        return False
    folder = _folder(options.casefold, options.nfkc, options.leetspeak, options.homoglyphs)
    return folder.aligned(text)


def _chunks(texts: list[str], rows: list[int]) -> list[list[int]]:
    # Non-ASCII groups stay below ALIGNED_BELOW characters: the regular
    # expressions that fold and mark their non-ASCII characters scan every
    # character, which costs more than the numpy paths on long texts.
    chunks: list[list[int]] = [[]]
    size = 0
    for i in rows:
        size += len(texts[i]) + 1
        if size >= ALIGNED_BELOW and chunks[-1]:
            chunks.append([])
            size = len(texts[i]) + 1
        chunks[-1].append(i)
    return chunks


def _join(texts: list[str], rows: list[int], options: MatchOptions) -> JoinedTexts:
    # Every text of `rows` is ASCII or folds aligned (checked by the caller).
    chosen = texts if len(rows) == len(texts) else [texts[i] for i in rows]
    offsets = np.zeros(len(chosen), dtype=np.int64)
    np.cumsum(np.fromiter(map(len, chosen), np.int64, len(chosen))[:-1] + 1, out=offsets[1:])
    return JoinedTexts(rows, offsets, normalize_aligned(JOIN_CHAR.join(chosen), options))
