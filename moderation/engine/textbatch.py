"""Many texts normalised as one: what evaluate_batch and match_batch use."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from moderation.engine.normalize import MatchOptions, NormalizedText, folds_aligned, normalize

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
    plain: list[int] = []
    others: list[int] = []
    singles: dict[int, NormalizedText] = {}
    for i, text in enumerate(texts):
        if text.isascii():
            plain.append(i)
        elif folds_aligned(text, options):
            others.append(i)
        else:
            singles[i] = normalize(text, options)
    joined = [_join(texts, rows, options) for rows in (plain, others) if rows]
    return NormalizedBatch(texts, joined, singles)


def _join(texts: list[str], rows: list[int], options: MatchOptions) -> JoinedTexts:
    lengths = [len(texts[i]) + 1 for i in rows]
    offsets = np.concatenate(([0], np.cumsum(lengths[:-1]))).astype(np.int64)
    return JoinedTexts(rows, offsets, normalize(JOIN_CHAR.join(texts[i] for i in rows), options))
