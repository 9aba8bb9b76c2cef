"""Production precision and recall estimated from the random audit stratum; pure Python, no Django.

Only records drawn into the random audit stratum are used: each was kept with a
known inclusion probability p, independently of what was decided, so weighting
it by w = 1/p makes it stand for the 1/p decisions it was drawn from
(Horvitz-Thompson). Records kept because they were `review` or `block`
decisions are not random and would bias the figures; they are never passed in.

For one yes/no question (is the action at least `block`? at least `flag`?):

- precision = Σ w·[decided yes and label yes] / Σ w·[decided yes]
- recall    = Σ w·[decided yes and label yes] / Σ w·[label yes]

Both are ratio (Hájek) estimators: the unknown population size cancels. With
equal weights they are the textbook TP / (TP + FP) and TP / (TP + FN).

Interval: a Wilson score interval (95% by default) around the weighted ratio,
with Kish's effective sample size n_eff = (Σw)² / Σw² of the records in the
denominator in place of n. Equal weights give n_eff = n and the textbook Wilson
interval; unequal weights shrink n_eff and widen it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from moderation.analysis.metrics import OUTCOMES, at_least

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class AuditLabel:
    """One audited record: what the policy decided, what reviewers said, and its draw chance."""

    decided: str
    labelled: str
    inclusion_probability: float

    @property
    def weight(self) -> float:
        return 1.0 / self.inclusion_probability


@dataclass(frozen=True)
class Estimate:
    """A weighted ratio, its interval, and how many records (and effective records) stand behind it.

    `value`, `low` and `high` are None when no record is in the denominator.
    """

    value: float | None
    low: float | None
    high: float | None
    n: int
    n_effective: float

    def as_dict(self) -> dict:
        def r(x):
            return None if x is None else round(x, 4)

        return {
            "value": r(self.value),
            "low": r(self.low),
            "high": r(self.high),
            "n": self.n,
            "n_effective": round(self.n_effective, 1),
        }


@dataclass(frozen=True)
class OutcomeEstimate:
    """Precision and recall of one yes/no question asked of the final action."""

    outcome: str
    precision: Estimate
    recall: Estimate

    @property
    def ratios(self) -> tuple[Estimate, Estimate]:
        return self.precision, self.recall


def wilson(p: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `p` seen on `n` (maybe fractional) trials."""
    if n <= 0:
        raise ValueError("a Wilson interval needs n > 0")
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def kish_n(weights: Iterable[float]) -> float:
    """Kish's effective sample size (Σw)² / Σw²; 0 for no weights."""
    weights = list(weights)
    squares = sum(w * w for w in weights)
    return sum(weights) ** 2 / squares if squares else 0.0


def weighted_ratio(pairs: Iterable[tuple[bool, float]], z: float = Z_95) -> Estimate:
    """Σ w·[hit] / Σ w over (hit, weight) pairs, with its Wilson–Kish interval."""
    pairs = list(pairs)
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        return Estimate(None, None, None, 0, 0.0)
    value = sum(w for hit, w in pairs if hit) / total
    n_eff = kish_n(w for _, w in pairs)
    low, high = wilson(value, n_eff, z)
    return Estimate(value, low, high, len(pairs), n_eff)


def estimate_outcome(
    labels: Iterable[AuditLabel], outcome: str, z: float = Z_95
) -> OutcomeEstimate:
    """Weighted precision and recall of `outcome` ("block" or "flag_or_worse")."""
    level = OUTCOMES[outcome]
    rows = [(at_least(a.decided, level), at_least(a.labelled, level), a.weight) for a in labels]
    precision = weighted_ratio(((truth, w) for said, truth, w in rows if said), z)
    recall = weighted_ratio(((said, w) for said, truth, w in rows if truth), z)
    return OutcomeEstimate(outcome, precision, recall)


def estimate(labels: Iterable[AuditLabel], z: float = Z_95) -> dict[str, OutcomeEstimate]:
    """Precision and recall of every outcome (metrics.OUTCOMES), by outcome name."""
    labels = [a for a in labels if a.inclusion_probability and a.inclusion_probability > 0]
    return {name: estimate_outcome(labels, name, z) for name in OUTCOMES}
