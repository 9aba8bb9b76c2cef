"""Score drift between a baseline and a new sample of scores: PSI and the two-sample KS statistic.

Pure numpy, no Django. Scores are model outputs in [0, 1].

- PSI (population stability index) over fixed bins of [0, 1]:
  sum over bins of (a - e) * ln(a / e), where e and a are the baseline's and
  the new sample's share of scores in the bin; an empty bin counts as
  EPSILON so the logarithm stays finite. Rule of thumb: < 0.1 stable,
  0.1-0.25 moderate shift, > 0.25 significant shift.
- Production against a suite: production records carry their scores by key, a
  category id ("violence") or a concept's rule id ("concept:12"); a suite
  decision is brought to the same keys by `production_scores`, a category scored
  on both prompt and image counting once, at its higher score, as the agent
  reports it.
- KS: the largest vertical distance D between the two empirical CDFs, with
  the textbook asymptotic p-value P(K > D * sqrt(nm / (n + m))) of the
  Kolmogorov distribution (scipy's kstwobign).
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

EPSILON = 1e-4
PSI_BINS = 10
PSI_ALERT = 0.25


@dataclass(frozen=True)
class Drift:
    """How far one score's distribution moved, and whether that is past the threshold."""

    psi: float
    ks: float
    ks_pvalue: float
    baseline_n: int
    current_n: int
    flagged: bool


def psi(baseline, current, bins: int = PSI_BINS) -> float:
    """Population stability index of `current` against `baseline`, over equal bins of [0, 1]."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    expected = _shares(np.asarray(baseline, dtype=float), edges)
    actual = _shares(np.asarray(current, dtype=float), edges)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _shares(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(np.clip(scores, 0.0, 1.0), bins=edges)
    shares = counts / max(len(scores), 1)
    return np.where(shares == 0, EPSILON, shares)


def ks_2samp(baseline, current) -> tuple[float, float]:
    """(statistic, asymptotic p-value) of the two-sample Kolmogorov-Smirnov test."""
    a = np.sort(np.asarray(baseline, dtype=float))
    b = np.sort(np.asarray(current, dtype=float))
    if not len(a) or not len(b):
        raise ValueError("both samples need at least one score")
    values = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, values, side="right") / len(a)
    cdf_b = np.searchsorted(b, values, side="right") / len(b)
    statistic = float(np.max(np.abs(cdf_a - cdf_b)))
    n = len(a) * len(b) / (len(a) + len(b))
    return statistic, _kolmogorov_sf(statistic * np.sqrt(n))


def _kolmogorov_sf(x: float) -> float:
    """P(K > x) for the Kolmogorov distribution (its series converges fast for x > 0)."""
    if x <= 0:
        return 1.0
    k = np.arange(1, 101)
    value = 2.0 * np.sum((-1.0) ** (k - 1) * np.exp(-2.0 * (k * x) ** 2))
    return float(min(max(value, 0.0), 1.0))


def drift(baseline, current, *, psi_alert: float = PSI_ALERT) -> Drift:
    """PSI and KS of one score, flagged when PSI passes `psi_alert`."""
    value = psi(baseline, current)
    statistic, pvalue = ks_2samp(baseline, current)
    return Drift(value, statistic, pvalue, len(baseline), len(current), value > psi_alert)


def production_key(rule: dict) -> str | None:
    """The key a production record stores this rule's score under; None for other kinds."""
    if rule.get("kind") == "category":
        return (rule.get("explanation") or {}).get("category")
    if rule.get("kind") == "concept":
        return rule.get("rule_id")
    return None


def production_scores(decisions: Iterable[dict]) -> dict[str, list[float]]:
    """Every category and concept score of suite decisions by production key, one per decision."""
    scores: dict[str, list[float]] = {}
    for decision in decisions:
        best: dict[str, float] = {}
        for rule in decision["results"]:
            key = production_key(rule)
            if key and "skipped" not in (rule.get("explanation") or {}):
                best[key] = max(best.get(key, 0.0), float(rule["score"]))
        for key, value in best.items():
            scores.setdefault(key, []).append(value)
    return scores


def record_scores(records: Iterable[dict]) -> dict[str, list[float]]:
    """Production records' `scores` dicts pooled by key."""
    scores: dict[str, list[float]] = {}
    for record in records:
        for key, value in record.items():
            if value is not None:
                scores.setdefault(key, []).append(float(value))
    return scores
