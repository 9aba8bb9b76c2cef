"""What normalisation gives back: the normalised text with its map to the original.

What a keyword set asks of it, MatchOptions, is defined once in
moderation.engine.match_options.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


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
