"""Separators: single letters split by separators (``s.e.x``, ``s e x``,
``s-e-x``) are joined back into the word they spell."""

from __future__ import annotations

import itertools
import re

import numpy as np

from moderation.engine.match_options import MatchOptions
from moderation.engine.normalize.unicode import non_ascii_chars

# Separators between single letters. Commas and semicolons are not among
# them: "a, b, c" is a list, not a spelled-out word.
SEPARATOR_CHARS = " \t\n\r\f\v.-_*·•~/\\|'`^=:\u00a0\u3000"
_SEP = "[" + re.escape(SEPARATOR_CHARS) + "]"
# At least three single letters joined by one to three separator characters:
# two letters ("e.g.", "i.e.") are too often ordinary text.
SPLIT_WORD_RE = re.compile(rf"(?<![^\W_])[^\W_](?:{_SEP}{{1,3}}[^\W_](?![^\W_])){{2,}}")


def _shape(char: str) -> str:
    if char == "?":
        return "?"
    return "a" if char.isalnum() else "." if char in SEPARATOR_CHARS else " "


# Letters and digits read 'a', separators '.', other ASCII ' ', and any other
# non-ASCII character '?' (a letter or not; the non-ASCII separators are mapped
# to '.' first). The middle of a split word then shows as ".a.a", ".a..a" or
# ".a...a" (or with '?' for letters), which a bytes pattern starting with a
# literal spots ten times faster than the full Unicode pattern scans; the full
# pattern then runs only where the shape says.
_SHAPE_BYTES = "".join(_shape(chr(i)) for i in range(128)).encode() + b"?" * 128
_NON_ASCII_SEPARATOR_RE = re.compile("[" + "".join(c for c in SEPARATOR_CHARS if c > "\x7f") + "]")
SPLIT_SHAPE_RE = re.compile(rb"\.[a?]\.{1,3}[a?](?!a)")
# Shapes at least this long are searched with numpy first (see split_candidates).
SHAPE_VECTORISE_FROM = 2048


def text_shape(text: str) -> bytes:
    """Return the shape of `text`, one byte per character (see _SHAPE_BYTES)."""
    # str.translate with a dict is slow on long texts; bytes.translate is not.
    if not text.isascii() and _NON_ASCII_SEPARATOR_RE.search(non_ascii_chars(text)):
        text = _NON_ASCII_SEPARATOR_RE.sub(".", text)
    return text.encode("ascii", "replace").translate(_SHAPE_BYTES)


def split_shape(raw: bytes, options: MatchOptions) -> list[int]:
    """Return where folded ASCII bytes may hold a split word, when separators are joined."""
    if options.ignore_separators:
        return split_candidates(raw.translate(_SHAPE_BYTES))
    return []


def split_candidates(shape: bytes) -> list[int]:
    """Return, in order, every position at which SPLIT_SHAPE_RE matches `shape`."""
    if len(shape) < SHAPE_VECTORISE_FROM:
        found, pos = [], 0
        while (candidate := SPLIT_SHAPE_RE.search(shape, pos)) is not None:
            found.append(pos := candidate.start())
            pos += 1
        return found
    # Long shapes: the regex would stop at every separator. A match holds two
    # letters ('a', or '?' for a non-ASCII character) each with a separator
    # before it and no ASCII letter after it, two to four places apart with
    # only separators between: numpy finds such pairs, the regex confirms.
    codes = np.frombuffer(shape + b" ", dtype=np.uint8)
    strict = codes == ord("a")
    letter = strict | (codes == ord("?")) if b"?" in shape else strict
    single = np.flatnonzero(letter[1:-1] & (codes[:-2] == ord(".")) & ~strict[2:]) + 1
    gaps = np.diff(single)
    firsts = single[:-1][(gaps >= 2) & (gaps <= 4)] - 1
    return [at for at in firsts.tolist() if SPLIT_SHAPE_RE.match(shape, at)]


def split_words(text: str, candidates: list[int] | None = None) -> list[re.Match[str]]:
    """Return the SPLIT_WORD_RE matches of `text`, as finditer would, but found from the
    candidates of its shape (`candidates`: split_candidates of it, when the caller has them)."""
    if candidates is None:
        candidates = split_candidates(text_shape(text))
    found: list[re.Match[str]] = []
    done = pos = 0
    for at in candidates:
        if at < pos:
            continue
        match = _split_word_at(text, max(done, at - 3), at + 2)
        if match is None:
            pos = at + 1  # candidates may overlap
        else:
            found.append(match)
            done = pos = match.end()
    return found


def _split_word_at(text: str, lo: int, hi: int) -> re.Match[str] | None:
    # The split word's first letter is one to three separators before the
    # candidate's second letter, or is that letter itself.
    for start in range(lo, hi):
        match = SPLIT_WORD_RE.match(text, start)
        if match:
            return match
    return None


def join_split_words(
    text: str, candidates: list[int] | None = None
) -> tuple[str, np.ndarray | None]:
    """Return `text` with its split words joined, and the indices of the characters kept
    (None when nothing was joined)."""
    matches = split_words(text, candidates)
    if not matches:
        return text, None
    drops = [
        match.start() + offset
        for match in matches
        for offset, char in enumerate(match.group())
        if char in SEPARATOR_CHARS
    ]
    pieces = [text[a + 1 : b] for a, b in itertools.pairwise([-1, *drops, len(text)])]
    keep = np.ones(len(text), dtype=bool)
    keep[drops] = False
    return "".join(pieces), np.flatnonzero(keep)
