"""Many texts normalised as one: what evaluate_batch and match_batch use."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from moderation.engine.match_options import MatchOptions
from moderation.engine.normalize import (
    ALIGNED_BELOW,
    READING_MARK,
    NormalizedText,
    normalize,
    normalize_aligned,
)
from moderation.engine.normalize.folder import folder_for
from moderation.engine.normalize.plain import (
    PlainFolder,
    Taken,
    plain_folder,
    squeeze_long,
)
from moderation.engine.wordkeys import MARK, MARK_BYTES, marked_text

# Joins the texts of a batch: not a word character, not a separator, and in no
# term, so matching and folding never cross from one text to the next.
JOIN_CHAR = "\x00"


class JoinedTexts:
    """Texts of a batch joined with JOIN_CHAR and normalised as one text."""

    __slots__ = ("_marked", "_parts", "norm", "offsets", "rows")

    def __init__(self, rows: list[int], offsets: np.ndarray, parts: list[NormalizedText]) -> None:
        self.rows = rows  # indices in the batch of the texts joined, in order
        self.offsets = offsets  # start of each text in norm.original
        self.norm = _concat(parts)
        self._parts = parts
        self._marked: str | None = None

    def marked(self) -> str:
        """Return marked_text(norm.text), built once for every keyword set matching the batch."""
        if self._marked is None:
            # Marking is one character for one, so each part marks on its own
            # fast path: the ASCII part as bytes, a non-ASCII part with a regex.
            first, *others = (marked_text(part.text) for part in self._parts)
            self._marked = first + "".join(marked[1:] for marked in others)
        return self._marked

    def readings(self) -> bool:
        """Return whether a split word is read two ways (see READING_MARK)."""
        return READING_MARK in self.norm.text

    def spans(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the spans in norm.original of the normalised spans [starts, ends)."""
        if self.norm.starts is None:
            return starts, ends
        return self.norm.starts[starts], self.norm.ends[ends - 1]


class PlainTexts:
    """ASCII texts of a batch that the one-prompt fast path takes (normalize/plain.py),
    joined with JOIN_CHAR, folded and marked as one: no span map, only the letters
    squeezed out; the normalised text is made when a key needs checking against it."""

    __slots__ = ("_at", "_drops", "_encoded", "_folder", "_marked", "_text", "offsets", "rows")

    def __init__(
        self, rows: list[int], offsets: np.ndarray, encoded: bytes, folder: PlainFolder
    ) -> None:
        self.rows = rows  # indices in the batch of the texts joined, in order
        self.offsets = offsets  # start of each text in the joined text
        self._encoded = encoded
        self._folder = folder
        self._text: str | None = None
        self._drops: np.ndarray | None = None  # where letters were squeezed out
        if folder.squeeze:
            # Squeezed before marking (marking keeps the letters), so that the
            # normalised text, which checks keys with spaces, comes along.
            folded, self._drops = squeeze_long(encoded.translate(folder.fold))
            self._text = folded.decode()
            body = folded.translate(MARK_BYTES)
        else:
            body = encoded.translate(folder.mark)
        self._marked = MARK + body.decode() + MARK
        self._at: np.ndarray | None = None

    def marked(self) -> str:
        """Return marked_text(norm.text)."""
        return self._marked

    def text(self) -> str:
        """Return the normalised text: the texts folded, squeezed and joined."""
        if self._text is None:
            self._text = self._encoded.translate(self._folder.fold).decode()
        return self._text

    def readings(self) -> bool:
        """Return False: the fast path takes no split word."""
        return False

    @property
    def norm(self) -> NormalizedText:
        """The texts as normalize() of them joined gives them (matching needs less of it)."""
        original = self._encoded.decode()
        if self._drops is None:
            return NormalizedText(original, self.text(), None, None)
        kept = np.flatnonzero(~self._drops)
        return NormalizedText(original, self.text(), kept, np.append(kept[1:], len(original)))

    def spans(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the spans in the joined text of the normalised spans [starts, ends)."""
        if self._drops is None:
            return starts, ends
        if self._at is None:
            # Where each squeezed-out letter would stand in the normalised text (as
            # plain.squeezed_spans): a span takes along the drops at or before its edges.
            dropped = np.flatnonzero(self._drops)
            self._at = dropped - np.arange(len(dropped))
        right = np.searchsorted(self._at, starts, side="right")
        return starts + right, ends + np.searchsorted(self._at, ends, side="right")


class NormalizedBatch(NamedTuple):
    """Many texts normalised at once: most in joined groups, the others one by one."""

    texts: list[str]
    joined: Sequence[JoinedTexts | PlainTexts]
    singles: Mapping[int, NormalizedText]
    # A batch of one short ASCII prompt that the fast path takes (the fleet
    # judges one request at a time): what it took, and the rest is empty.
    plain: Taken | None = None


_new_batch = tuple.__new__
_NO_SINGLES: Mapping[int, NormalizedText] = MappingProxyType({})


def normalize_batch(texts: list[str], options: MatchOptions) -> NormalizedBatch:
    """Normalise many texts in a few passes where they allow it; same result as one by one.

    Joined: the ASCII texts the one-prompt fast path takes (PlainTexts); then
    the other ASCII texts and the texts that fold one character for one (no
    combining marks, invisible characters or expanding characters such as
    'ß'), so no fold spans two texts; non-ASCII texts past ALIGNED_BELOW
    characters in all make further groups. The rest go one by one.
    """
    if len(texts) == 1:
        # One text (the fleet's request): the fast path, or else normalize(),
        # whose fixed costs are lower than a group's. Built as a plain tuple
        # with shared empty parts: a NamedTuple's own constructor costs a third
        # of the fast path's folding.
        plain = plain_folder(options).take(texts[0])
        if plain is not None:
            return _new_batch(NormalizedBatch, (texts, (), _NO_SINGLES, plain))
        return _new_batch(NormalizedBatch, (texts, (), {0: normalize(texts[0], options)}, None))
    flags = list(map(str.isascii, texts))
    plain = list(itertools.compress(range(len(texts)), flags))
    others = list(itertools.compress(range(len(texts)), map(operator.not_, flags)))
    joined: list[JoinedTexts | PlainTexts] = []
    if plain:
        taken, plain = _plain_texts(texts, plain, plain_folder(options))
        if taken is not None:
            joined.append(taken)
    singles: dict[int, NormalizedText] = {}
    if others and not _all_fold_aligned([texts[i] for i in others], options):
        # One check for all the non-ASCII texts passes in most batches; when
        # it fails, each text is checked on its own.
        for i in others:
            if not folds_aligned(texts[i], options):
                singles[i] = normalize(texts[i], options)
        others = [i for i in others if i not in singles]
    # The ASCII texts the fast path declines and the first non-ASCII chunk
    # make one group (the non-ASCII texts last), so that one scan takes them.
    first, *more = _chunks(texts, others) if others else [[]]
    groups = [[part for part in (plain, first) if part], *([chunk] for chunk in more)]
    joined += [_join(texts, parts, options) for parts in groups if parts]
    return NormalizedBatch(texts, joined, singles)


def _plain_texts(
    texts: list[str], rows: list[int], folder: PlainFolder
) -> tuple[PlainTexts | None, list[int]]:
    # The ASCII texts of `rows` that the fast path takes, as one group, and the
    # rows of the others (the few with a split word or a leetspeak symbol).
    encoded = JOIN_CHAR.join(map(texts.__getitem__, rows)).encode()
    offsets = _offsets(texts, rows)
    declined = _declined(encoded, offsets, folder) if folder.checks else []
    if declined:
        skip = set(declined)
        declined = [rows[k] for k in declined]
        rows = [row for k, row in enumerate(rows) if k not in skip]
        if not rows:
            return None, declined
        encoded = JOIN_CHAR.join(map(texts.__getitem__, rows)).encode()
        offsets = _offsets(texts, rows)
    return PlainTexts(rows, offsets, encoded, folder), declined


def _declined(encoded: bytes, offsets: np.ndarray, folder: PlainFolder) -> list[int]:
    # Indices (in the joined order) of the texts that PlainFolder.take declines:
    # one search over them all, resumed after each text found.
    shape = encoded.translate(folder.shape)
    found, pos = [], folder.declined_at(shape, 0)
    while pos >= 0:
        found.append(k := int(np.searchsorted(offsets, pos, side="right")) - 1)
        if k + 1 == len(offsets):
            break
        pos = folder.declined_at(shape, int(offsets[k + 1]))
    return found


def _offsets(texts: list[str], rows: list[int]) -> np.ndarray:
    # Where each text of `rows` starts once they are joined with JOIN_CHAR.
    lengths = np.fromiter(map(len, map(texts.__getitem__, rows)), np.int64, len(rows))
    offsets = np.zeros(len(rows), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=offsets[1:])
    return offsets


def folds_aligned(text: str, options: MatchOptions) -> bool:
    """Return whether `text` folds one character for one under `options` (ASCII text always
    does, before separators are joined); such texts can be normalised joined together."""
    if text.isascii():
        return True
    if len(text) >= ALIGNED_BELOW:
        return False
    folder = folder_for(options)
    return folder.aligned(text)


def _all_fold_aligned(texts: list[str], options: MatchOptions) -> bool:
    # True only if folds_aligned() is true for each text: the characters of
    # all of them fold one for one exactly when those of each one do.
    if any(len(text) >= ALIGNED_BELOW for text in texts):
        return False
    folder = folder_for(options)
    return folder.aligned("".join(texts))


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


def _join(texts: list[str], parts: list[list[int]], options: MatchOptions) -> JoinedTexts:
    # Every text of `parts` is ASCII or folds aligned (checked by the caller);
    # each part is normalised on its own path, then the parts are joined.
    chosen = [list(map(texts.__getitem__, part)) for part in parts]
    rows = list(itertools.chain.from_iterable(parts))
    norms = [normalize_aligned(JOIN_CHAR.join(part), options) for part in chosen]
    return JoinedTexts(rows, _offsets(texts, rows), norms)


def _concat(parts: list[NormalizedText]) -> NormalizedText:
    # The parts joined with JOIN_CHAR, as normalising the joined text would give.
    if len(parts) == 1:
        return parts[0]
    original = JOIN_CHAR.join(part.original for part in parts)
    text = JOIN_CHAR.join(part.text for part in parts)
    if all(part.starts is None for part in parts):
        return NormalizedText(original, text, None, None)
    starts, ends, base = [], [], 0
    for part in parts:
        if base:  # the JOIN_CHAR before this part
            starts.append(np.array([base - 1]))
            ends.append(np.array([base]))
        aligned = part.starts is None
        local = np.arange(len(part.text)) if aligned else part.starts
        starts.append(local + base)
        ends.append((local + 1 if aligned else part.ends) + base)
        base += len(part.original) + 1
    return NormalizedText(original, text, np.concatenate(starts), np.concatenate(ends))
