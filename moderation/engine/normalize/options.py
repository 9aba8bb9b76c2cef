"""What a keyword set asks of normalisation, and what normalisation gives back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

MatchMode = Literal["whole_word", "substring"]


@dataclass(frozen=True)
class MatchOptions:
    """How a keyword set matches: mode and which foldings apply to text and terms."""

    mode: MatchMode = "whole_word"
    casefold: bool = True
    nfkc: bool = True
    leetspeak: bool = True
    homoglyphs: bool = True
    ignore_separators: bool = True

    def fold_key(self) -> tuple[bool, ...]:
        """Return the part of the options that decides normalisation (not the mode)."""
        return (self.casefold, self.nfkc, self.leetspeak, self.homoglyphs, self.ignore_separators)


class NormalizedText(NamedTuple):
    """A normalised text and, per normalised character, its span in the original."""

    original: str
    text: str
    starts: np.ndarray | None  # None: the normalised text is aligned 1:1 with the original
    ends: np.ndarray | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Return the original span [a, b) that normalised characters [start, end) came from."""
        if self.starts is None:
            return start, end
        return int(self.starts[start]), int(self.ends[end - 1])
