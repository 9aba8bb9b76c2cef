"""Shadow experiments in numbers: the flip matrix, block-rate gap, guard, candidate precision.

Django-free: callers pass counts keyed by (enforced action, shadow action) and
labelled flips. Intervals are Wilson score intervals at 95%
(moderation.analysis.production.wilson).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from moderation.analysis.production import wilson
from moderation.engine.decision import ACTIONS


@dataclass(frozen=True)
class Share:
    """k of n, as a share with its 95% Wilson interval (None when n is 0)."""

    k: int
    n: int

    @property
    def rate(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.k / self.n, self.n) if self.n else None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else 100 * self.rate

    @property
    def percent_interval(self) -> tuple[float, float] | None:
        found = self.interval
        return None if found is None else (100 * found[0], 100 * found[1])


@dataclass(frozen=True)
class FlipMatrix:
    """Shadowed requests by enforced action (rows) × shadow action (columns)."""

    counts: Mapping[tuple[str, str], int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def flips(self) -> Share:
        return Share(sum(n for (e, s), n in self.counts.items() if e != s), self.total)

    def cell(self, enforced: str, shadow: str) -> Share:
        """The share of all shadowed requests that went enforced → shadow."""
        return Share(self.counts.get((enforced, shadow), 0), self.total)

    def rows(self) -> list[tuple[str, list[Share]]]:
        """Every action as a row, with its cell per shadow action, in ladder order."""
        return [(e, [self.cell(e, s) for s in ACTIONS]) for e in ACTIONS]

    def enforced_share(self, action: str) -> Share:
        return Share(sum(n for (e, _), n in self.counts.items() if e == action), self.total)

    def shadow_share(self, action: str) -> Share:
        return Share(sum(n for (_, s), n in self.counts.items() if s == action), self.total)

    @property
    def enforced_block(self) -> Share:
        return self.enforced_share("block")

    @property
    def shadow_block(self) -> Share:
        return self.shadow_share("block")

    def block_gap_points(self) -> float:
        """How many percentage points more often the shadow blocks than the enforced version."""
        if not self.total:
            return 0.0
        return 100 * (self.shadow_share("block").k - self.enforced_share("block").k) / self.total


def guard_tripped(matrix: FlipMatrix, *, points: float, requests: int) -> bool:
    """True once `requests` requests were shadowed and the block gap exceeds `points`."""
    return matrix.total >= requests and matrix.block_gap_points() > points


def stricter(candidate: str, enforced: str) -> bool:
    return ACTIONS.index(candidate) > ACTIONS.index(enforced)


def candidate_precision(flips: Iterable[tuple[str, str, str]]) -> Share:
    """Of labelled flips where the candidate was stricter, the share the label agrees with.

    Each flip is (enforced action, candidate action, label); the label agrees when it is
    at least as strict as the candidate's action: the answer to "are the new blocks right?".
    """
    judged = [(c, label) for e, c, label in flips if stricter(c, e)]
    return Share(sum(ACTIONS.index(label) >= ACTIONS.index(c) for c, label in judged), len(judged))
