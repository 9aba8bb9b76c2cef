"""When to poll next (interval with ±20% jitter, doubling on failure), and upload backoff."""

from __future__ import annotations

import random

JITTER = 0.2


class Schedule:
    """Computes poll delays; a fleet restarted at once spreads out instead of polling in step."""

    def __init__(
        self, interval: float, *, max_backoff: float = 300.0, rng: random.Random | None = None
    ) -> None:
        if interval <= 0:
            raise ValueError(f"the poll interval must be positive, not {interval}")
        self.interval = interval
        self.max_backoff = max(max_backoff, interval)
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self, failed: bool) -> float:
        """Return seconds to wait: interval*2^failures (capped) after an error, times 0.8..1.2."""
        self.failures = self.failures + 1 if failed else 0
        base = min(self.interval * 2 ** min(self.failures, 32), self.max_backoff)
        return base * self._rng.uniform(1 - JITTER, 1 + JITTER)


def full_jitter(failures: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Return a delay drawn uniformly in [0, min(cap, base*2^failures)] ("full jitter").

    Agents that failed together (the server went down for all of them) then retry spread
    over the whole window instead of in step.
    """
    return rng.uniform(0.0, min(cap, base * 2 ** min(max(failures, 0), 32)))
