"""The one-prompt fast path: a short ASCII text whose normalisation only folds characters
one for one and squeezes repeated letters (no split word to join, no leetspeak symbol).

Most prompts are such texts, and one prompt at a time the fixed costs of the general
path (numpy arrays for the span map, several regular expressions, a NormalizedText)
are most of the work. Here the text stays bytes: one translation gives its shape, which
tells whether a later stage could change it (a '?' for a leetspeak symbol, and one
regular expression with a literal prefix for a split word); one more translation folds
and marks it for the boundary automaton (wordkeys.py) at once; squeezing is a few
big-integer operations; and the span map is read only for the matches found.
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

import numpy as np

from moderation.engine.match_options import MatchOptions
from moderation.engine.normalize.leetspeak import ascii_symbols
from moderation.engine.normalize.separators import splitter_for
from moderation.engine.normalize.tables import ascii_bytes
from moderation.engine.wordkeys import MARK, MARK_BYTES

# Longer texts take the general path, whose numpy scans do better there.
PLAIN_BELOW = 2048
_EDGE = MARK.encode("ascii")


# Squeezing as big-integer and bytes operations (see _squeeze): 0 for an ASCII
# letter, else 1; the bytes at or above 0x80.
_NOT_LETTER = bytes(0 if i < 128 and chr(i).isalpha() else 1 for i in range(256))
_LETTER = bytes(1 - flag for flag in _NOT_LETTER)
_HIGH = bytes(range(128, 256))
# A byte of the shape of a text holding a leetspeak symbol to fold (see PlainFolder).
_SYMBOL = re.compile(rb"[\x80-\xff]")


class PlainFolder:
    """The fast path's tables for one set of options: which texts it takes, and their
    normalised and marked forms."""

    def __init__(self, options: MatchOptions) -> None:
        fold = ascii_bytes(options.casefold, options.leetspeak)
        self.fold = fold
        # Folding, then marking (one for one both): one translation.
        self.mark = bytes(MARK_BYTES[fold[i]] for i in range(256))
        # The shape of the folded text, also in one translation: 0x80 for each
        # leetspeak symbol the options fold (so the shape is not ASCII), and the
        # splitter's letters ('a') and separators ('.') when split words are joined.
        shape = bytearray(b" " * 256)
        self.split_search = None
        if options.ignore_separators:
            splitter = splitter_for(options)
            shape[:] = splitter.ascii_shape_bytes
            # The splitter's shape_re where no '?' can be (symbols are declined
            # first), written so that its literal prefix is ".a.", a single
            # letter: ".a" starts every word, and the search would stop at each.
            pattern = rb"\.a\.\.{0,%d}a(?!a)" % (splitter.max_run - 1)
            self.split_search = re.compile(pattern).search
        for symbol in ascii_symbols(options.leetspeak, options.leet_symbols):
            shape[symbol] = 0x80
        self.shape = bytes(shape[fold[i]] for i in range(256))
        self.checks = self.split_search is not None or not self.shape[:128].isascii()
        self.squeeze = options.squeeze_repeats

    def take(self, text: str) -> Taken | None:
        """Return `text` encoded, marked and squeezed when the fast path takes it (short
        ASCII, no leetspeak symbol, no split word), else None."""
        # Each call here is the cheapest of its kind (measured in instructions):
        # encode() and decode() without arguments, isascii() rather than `in`.
        if len(text) >= PLAIN_BELOW or not text.isascii():
            return None
        encoded = text.encode()
        if self.checks:
            shape = encoded.translate(self.shape)
            if not shape.isascii():
                return None  # a leetspeak symbol to fold, or a letter of a split word
            if self.split_search is not None and self.split_search(shape):
                return None  # maybe a split word to join
        # wordkeys.marked_text of the normalised text: marking keeps letters and
        # makes every other character MARK, so squeezing the marked text drops
        # the letters squeezing the normalised text drops.
        body = encoded.translate(self.mark)
        if not self.squeeze:
            return (encoded, _EDGE.join((b"", body, b"")).decode(), None)
        body, drops = _squeeze(body)
        return (encoded, _EDGE.join((b"", body, b"")).decode(), drops)

    def declined_at(self, shape: bytes, pos: int) -> int:
        """Return where in `shape` (the shape translation of ASCII bytes) the first leetspeak
        symbol or split word at or after `pos` starts, or -1: what take() declines a text for.
        Used on many texts joined with a character of shape ' ', which no search crosses."""
        found = []
        if not shape.isascii():
            found.append(_SYMBOL.search(shape, pos))
        if self.split_search is not None:
            found.append(self.split_search(shape, pos))
        return min((match.start() for match in found if match is not None), default=-1)

    def normalised(self, encoded: bytes) -> tuple[str, int | None]:
        """Return the normalised text of `encoded` (accepted), and the squeezed letters."""
        raw = encoded.translate(self.fold)
        drops = None
        if self.squeeze:
            raw, drops = _squeeze(raw)
        return raw.decode(), drops

    def folded(self, encoded: bytes, drops: int | None) -> str:
        """Return the normalised text of `encoded`, with `drops` (taken)."""
        raw = encoded.translate(self.fold)
        if drops is not None:
            raw = _drop(int.from_bytes(raw, "little"), drops, len(raw))
        return raw.decode()


# What PlainFolder.take gives: the text's ASCII bytes, its marked normalised
# text, and the letters squeezed out (see squeezed_spans; None: none).
Taken = tuple[bytes, str, int | None]


def _squeeze(raw: bytes) -> tuple[bytes, int | None]:
    # A few C-level passes where a regex with a back-reference takes five times
    # longer. The bytes as one little-endian integer: XOR the integer shifted
    # one byte up, and a byte is 0 where it repeats the one before; OR'd with 1
    # for non-letters, 0 marks a letter to drop. Every byte is below 0x80, so
    # adding 0x7f to each sets its high bit unless it was 0, without carries.
    size = len(raw)
    number = int.from_bytes(raw, "little")
    keep = (number ^ (number << 8)) | int.from_bytes(raw.translate(_NOT_LETTER), "little")
    sevens, highs = _masks(size)
    drops = ((keep + sevens) & highs) ^ highs  # 0x80 at each letter to drop
    if not drops:
        return raw, None
    return _drop(number, drops, size), drops


def squeeze_long(raw: bytes) -> tuple[bytes, np.ndarray | None]:
    """Return ASCII bytes with each run of a repeated letter as one letter, and per byte
    whether it was dropped (None: none): _squeeze for long texts, where numpy does better."""
    codes = np.frombuffer(raw, dtype=np.uint8)
    dropped = np.zeros(len(codes), dtype=bool)
    letters = np.frombuffer(raw.translate(_LETTER), dtype=bool)
    np.logical_and(codes[1:] == codes[:-1], letters[1:], out=dropped[1:])
    if not dropped.any():
        return raw, None
    # As in _drop: the high bit set on the letters to drop, which translate deletes.
    high = np.bitwise_or(codes, dropped.view(np.uint8) << 7)
    return high.tobytes().translate(None, _HIGH), dropped


def _drop(number: int, drops: int, size: int) -> bytes:
    # The letters to drop get the high bit set, and bytes.translate deletes them.
    return (number | drops).to_bytes(size, "little").translate(None, _HIGH)


_MASK_CACHE: dict[int, tuple[int, int]] = {}


def _masks(size: int) -> tuple[int, int]:
    # 0x7f and 0x80 in each of `size` bytes, as integers.
    masks = _MASK_CACHE.get(size)
    if masks is None:
        masks = _MASK_CACHE[size] = (
            int.from_bytes(b"\x7f" * size, "little"),
            int.from_bytes(b"\x80" * size, "little"),
        )
    return masks


def squeezed_spans(
    drops: int | None, size: int, spans: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Return the original span of each span [start, end) of a squeezed text of `size`
    original characters, from its squeezing's `drops` (0x80 at each letter dropped)."""
    if drops is None:
        return spans
    flags = drops.to_bytes(size, "little")
    # Where each dropped letter would stand in the squeezed text: a span
    # starting at i begins after the drops there, and one ending at j takes
    # the drops at j along (the run of its last letter).
    at, pos = [], flags.find(0x80)
    while pos >= 0:
        at.append(pos - len(at))
        pos = flags.find(0x80, pos + 1)
    right = bisect.bisect_right
    return [(a + right(at, a), b + right(at, b)) for a, b in spans]


class PlainText(NamedTuple):
    """A text the fast path takes, normalised: as `normalize` gives it, without arrays."""

    original: str
    text: str
    drops: int | None  # see squeezed_spans

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Return the original span [a, b) that normalised characters [start, end) came from."""
        return squeezed_spans(self.drops, len(self.original), [(start, end)])[0]


def plain_ascii(text: str, options: MatchOptions) -> PlainText | None:
    """Return the fast path's normalisation of `text` (the same text and spans as
    `normalize`), or None when it does not take the text."""
    folder = plain_folder(options)
    taken = folder.take(text)
    if taken is None:
        return None
    return PlainText(text, *folder.normalised(taken[0]))


_FOLDERS: dict[int, tuple[MatchOptions, PlainFolder]] = {}


def plain_folder(options: MatchOptions) -> PlainFolder:
    """Return the PlainFolder of `options`, made once per options object."""
    # By identity: hashing the options dataclass would cost as much as the
    # folding of a short prompt. A bundle's options live as long as the bundle.
    entry = _FOLDERS.get(id(options))
    if entry is None or entry[0] is not options:
        if len(_FOLDERS) >= 1024:
            _FOLDERS.clear()
        entry = _FOLDERS[id(options)] = (options, PlainFolder(options))
    return entry[1]
