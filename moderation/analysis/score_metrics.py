"""Metrics of a probabilistic binary classifier: PR curve, average precision, ROC AUC, calibration.

Pure numpy, no Django. Each function gives the number scikit-learn gives for
the same input (the tests compare them): `pr_curve` is
`precision_recall_curve` (thresholds at every distinct score, the last point
precision 1, recall 0), `average_precision` is `average_precision_score`
(the step sum of precision over recall increments, no interpolation),
`roc_auc` is `roc_auc_score` (ties count a half), `calibration_bins` is
`calibration_curve(strategy="uniform")` (empty bins left out) and `brier` is
`brier_score_loss`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PRCurve:
    """Precision and recall at each threshold (score >= threshold is positive)."""

    precision: np.ndarray  # len(thresholds) + 1, the last is 1.0
    recall: np.ndarray  # len(thresholds) + 1, the last is 0.0
    thresholds: np.ndarray  # increasing distinct scores


def _checked(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"labels {y.shape} and scores {s.shape} must be two equal 1-d arrays")
    if not y.any():
        raise ValueError("no positive label: precision and recall are undefined")
    return y, s


def _counts(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives at each distinct score, highest score first."""
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[last].astype(np.float64)
    fps = (last + 1 - tps).astype(np.float64)
    return tps, fps, s[last]


def pr_curve(labels, scores) -> PRCurve:
    """Return the precision-recall curve as scikit-learn's precision_recall_curve does."""
    y, s = _checked(labels, scores)
    tps, fps, thresholds = _counts(y, s)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    # scikit-learn reverses to increasing thresholds and ends at (recall 0, precision 1).
    return PRCurve(
        precision=np.r_[precision[::-1], 1.0],
        recall=np.r_[recall[::-1], 0.0],
        thresholds=thresholds[::-1],
    )


def average_precision(labels, scores) -> float:
    """Return sum over thresholds of (R_n - R_{n-1}) * P_n."""
    curve = pr_curve(labels, scores)
    return float(-np.sum(np.diff(curve.recall) * curve.precision[:-1]))


def roc_auc(labels, scores) -> float:
    """Return the probability a random positive outscores a random negative (ties a half)."""
    y, s = _checked(labels, scores)
    if y.all():
        raise ValueError("no negative label: ROC AUC is undefined")
    tps, fps, _ = _counts(y, s)
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.trapezoid(tpr, fpr))


def brier(labels, scores) -> float:
    """Return the mean squared difference between probability and label."""
    y, s = _checked(labels, scores)
    return float(np.mean((s - y) ** 2))


def calibration_bins(labels, scores, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Return (fraction positive, mean score) of each non-empty equal-width bin on [0, 1]."""
    y, s = _checked(labels, scores)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.searchsorted(edges[1:-1], s)
    totals = np.bincount(index, minlength=bins)
    positives = np.bincount(index, weights=y.astype(np.float64), minlength=bins)
    sums = np.bincount(index, weights=s, minlength=bins)
    kept = totals != 0
    return positives[kept] / totals[kept], sums[kept] / totals[kept]


@dataclass(frozen=True)
class Suggestion:
    """A threshold and what it gives on the scored data."""

    threshold: float
    precision: float
    recall: float
    reached: bool  # False: no threshold reaches the target; this one has the best F1


def threshold_for_precision(labels, scores, target: float) -> Suggestion:
    """The lowest threshold whose precision reaches `target` (the most recall there).

    When none reaches it, the threshold with the best F1, marked not reached.
    """
    curve = pr_curve(labels, scores)
    p, r, t = curve.precision[:-1], curve.recall[:-1], curve.thresholds
    good = np.flatnonzero(p >= target)
    if good.size:
        i = int(good[0])  # thresholds increase: the first is the lowest
        return Suggestion(float(t[i]), float(p[i]), float(r[i]), True)
    f1 = np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1), 0.0)
    i = int(np.argmax(f1))
    return Suggestion(float(t[i]), float(p[i]), float(r[i]), False)


def at_threshold(labels, scores, threshold: float) -> dict[str, float | int]:
    """Counts, precision, recall and F1 of `score >= threshold` (zero_division 0)."""
    y, s = _checked(labels, scores)
    predicted = s >= threshold
    tp = int(np.sum(predicted & y))
    fp = int(np.sum(predicted & ~y))
    fn = int(np.sum(~predicted & y))
    tn = int(np.sum(~predicted & ~y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall,
            "f1": f1}  # fmt: skip
