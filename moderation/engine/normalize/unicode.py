"""Unicode structure the foldings respect: combining marks stay with their base
character (NFKC and casefolding work on whole clusters), and non-ASCII runs are
found fast so that ASCII stretches can take the byte-level paths."""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np

NON_ASCII_RUN_RE = re.compile(r"[^\x00-\x7f]+")
_ASCII_BYTES = bytes(range(128))


@functools.cache
def marks() -> frozenset[str]:
    """Return every character that composes with the one before it."""
    found = {chr(c) for c in range(0x300, 0x20000) if unicodedata.combining(chr(c))}
    # Hangul vowel and final jamo compose with the preceding jamo under NFKC.
    found.update(chr(c) for c in range(0x1160, 0x1200))
    return frozenset(found)


@functools.cache
def combining_class() -> str:
    """Return a character class of every combining mark (see marks)."""
    return "[" + re.escape("".join(sorted(marks()))) + "]"


@functools.cache
def cluster_re() -> re.Pattern[str]:
    """Return the pattern of one base character with its combining marks."""
    return re.compile(r"." + combining_class() + "*", re.S)


def non_ascii_chars(text: str) -> str:
    """Return the non-ASCII characters of `text`, in order."""
    # UTF-8 keeps ASCII as single bytes below 0x80 and every byte of any other
    # character above it: deleting the first leaves whole characters.
    raw = text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES)
    return raw.decode("utf-8", "surrogatepass")


def non_ascii_runs(text: str) -> list[tuple[int, int]]:
    """Return the [start, end) spans of the runs of non-ASCII characters, in order."""
    if len(text) < 4096:
        return [m.span() for m in NON_ASCII_RUN_RE.finditer(text)]
    # Long texts: numpy finds the runs ten times faster than the regex scans.
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    edges = np.diff(np.concatenate(([0], (codes > 127).view(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()
    return list(zip(starts, ends, strict=True))
