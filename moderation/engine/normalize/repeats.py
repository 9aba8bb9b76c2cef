"""Repeated letters: a run of one letter ("nuuude", "cofffee") is squeezed to one
letter, in the text and in the terms alike, so "coffee" and "cofffee" both read
"cofe" and a term with a double letter still matches itself."""

from __future__ import annotations

import re

import numpy as np

_ASCII_REPEAT_RE = re.compile(rb"([A-Za-z])\1")
# Shorter ASCII texts (most prompts) take a path with fewer numpy calls.
_NUMPY_FROM = 2048

_ASCII_ALPHA = np.array([chr(i).isalpha() for i in range(128)], dtype=bool)
_NOT_ALPHA = ~_ASCII_ALPHA


class _AlphaTable:
    """`str.isalpha` per code point, computed the first time a code point is seen."""

    def __init__(self) -> None:
        self.known = np.zeros(0x110000, dtype=bool)
        self.known[:128] = True
        self.alpha = np.zeros(0x110000, dtype=bool)
        self.alpha[:128] = _ASCII_ALPHA

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        if not self.known[codes].all():
            new = np.unique(codes[~self.known[codes]]).tolist()
            self.alpha[new] = [chr(c).isalpha() for c in new]
            self.known[new] = True
        return self.alpha[codes]


_alpha = _AlphaTable()


def has_repeats(raw: bytes) -> bool:
    """Return whether ASCII bytes hold a letter repeated (which squeezing would change)."""
    return _ASCII_REPEAT_RE.search(raw) is not None


def squeeze_repeats(text: str) -> tuple[str, np.ndarray | None, np.ndarray | None]:
    """Return `text` with each run of a repeated letter as one letter, and per output
    character the first and the last index of `text` it stands for (None: no run)."""
    if text.isascii():
        if len(text) < _NUMPY_FROM:
            return _squeeze_short(text.encode("ascii"))
        codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        letters = _ASCII_ALPHA[codes]
    else:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        letters = _alpha(codes)
    # A letter repeating the one before it goes; its run's first letter stays
    # and stands for the whole run, so a span ending there covers the run.
    drop = np.zeros(len(codes), dtype=bool)
    np.logical_and(codes[1:] == codes[:-1], letters[1:], out=drop[1:])
    if not drop.any():
        return text, None, None
    kept = np.flatnonzero(~drop)
    lasts = np.flatnonzero(~np.append(drop[1:], False))
    squeezed = codes[kept].tobytes()
    if codes.dtype == np.uint8:
        return squeezed.decode("ascii"), kept, lasts
    return squeezed.decode("utf-32-le", "surrogatepass"), kept, lasts


def _squeeze_short(raw: bytes) -> tuple[str, np.ndarray | None, np.ndarray | None]:
    # The fewest numpy calls: their fixed costs are most of the time here.
    codes = np.frombuffer(raw, dtype=np.uint8)
    keep = np.empty(len(codes) + 1, dtype=bool)
    keep[0] = keep[-1] = True
    np.logical_or(codes[1:] != codes[:-1], _NOT_ALPHA[codes[1:]], out=keep[1:-1])
    kept = np.flatnonzero(keep[:-1])
    if len(kept) == len(codes):
        return raw.decode("ascii"), None, None
    lasts = np.flatnonzero(keep[1:])
    return codes[kept].tobytes().decode("ascii"), kept, lasts
