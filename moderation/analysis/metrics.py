"""Precision, recall, F1, support and confusion matrices of suite results; pure Python, no Django.

Binary metrics follow scikit-learn with ``zero_division=0``: a ratio whose
denominator is zero is 0.0, and F1 is 2·TP / (2·TP + FP + FN). Confusion matrices
are laid out as scikit-learn's ``confusion_matrix(labels=[False, True])``:
``[[TN, FP], [FN, TP]]``. Percentiles interpolate linearly (numpy's default).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from moderation.engine.decision import Action

# The yes/no questions asked of the final action, each "at least this strict?", by
# the name a suite result stores its metrics under; alert rules and the API use
# the same names.
OUTCOMES = {"block": Action.BLOCK, "flag_or_worse": Action.FLAG}


@dataclass(frozen=True)
class Binary:
    """Counts and ratios of one yes/no question asked of every sample."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def confusion(self) -> list[list[int]]:
        return [[self.tn, self.fp], [self.fn, self.tp]]

    def as_dict(self) -> dict:
        """Counts, ratios (rounded to 4 places) and the confusion matrix, JSON-ready."""
        return {
            **asdict(self),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
            "confusion": self.confusion,
        }


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def binary(expected: Iterable[bool], predicted: Iterable[bool]) -> Binary:
    """Compare two equally long sequences of yes/no answers."""
    tp = fp = fn = tn = 0
    for truth, guess in zip(expected, predicted, strict=True):
        if truth and guess:
            tp += 1
        elif guess:
            fp += 1
        elif truth:
            fn += 1
        else:
            tn += 1
    return Binary(tp, fp, fn, tn)


def at_least(action: str | Action, level: str | Action) -> bool:
    """Whether `action` is `level` or stricter on the allow < flag < review < block ladder."""
    return Action(action) >= Action(level)


def outcome_label(name: str) -> str:
    """What an outcome asks, in words: "block vs not", "flag or worse vs not"."""
    level = OUTCOMES[name]
    return f"{level.value}{'' if level is max(Action) else ' or worse'} vs not"


def action_metrics(expected: Sequence[str], predicted: Sequence[str]) -> dict[str, Binary]:
    """The final action judged once per outcome: block vs not, and flag or worse vs not."""
    return {
        name: binary(
            [at_least(a, level) for a in expected], [at_least(a, level) for a in predicted]
        )
        for name, level in OUTCOMES.items()
    }


def label_metrics(
    expected: Sequence[set[str]], predicted: Sequence[set[str]], labels: Iterable[str]
) -> dict[str, Binary]:
    """One binary question per label: was it expected, and was it found, for each sample."""
    return {
        label: binary([label in e for e in expected], [label in p for p in predicted])
        for label in labels
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency(timings: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """p50 and p95 in milliseconds of every stage that appears in the timings."""
    stages: dict[str, list[float]] = {}
    for row in timings:
        for stage, ms in row.items():
            stages.setdefault(stage, []).append(float(ms))
    return {
        stage: {"p50": round(percentile(v, 50), 3), "p95": round(percentile(v, 95), 3)}
        for stage, v in stages.items()
    }


@dataclass(frozen=True)
class CurvePoint:
    """Precision and recall when everything scoring `threshold` or more is caught."""

    threshold: float
    precision: float
    recall: float


def pr_curve(scores: Sequence[float], positive: Sequence[bool]) -> list[CurvePoint]:
    """One point per distinct score, thresholds ascending, like sklearn's precision_recall_curve."""
    pairs = sorted(zip(scores, positive, strict=True), key=lambda p: -p[0])
    total_pos = sum(1 for _, p in pairs if p)
    points, tp, fp, i = [], 0, 0, 0
    while i < len(pairs):
        score = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == score:
            tp, fp = tp + pairs[i][1], fp + (not pairs[i][1])
            i += 1
        points.append(CurvePoint(score, _ratio(tp, tp + fp), _ratio(tp, total_pos)))
    return points[::-1]


def suggest_threshold(
    curve: Sequence[CurvePoint], *, target: str, value: float
) -> CurvePoint | None:
    """The point that meets `target` ("precision" or "recall") >= value and is best at the other.

    For a precision target: the lowest such threshold (most recall). For a recall
    target: the highest such threshold (most precision). None when no point meets it.
    """
    meeting = [p for p in curve if getattr(p, target) >= value]
    if not meeting:
        return None
    if target == "precision":
        return max(meeting, key=lambda p: (p.recall, -p.threshold))
    return max(meeting, key=lambda p: (p.threshold, p.precision))


def histogram(values: Sequence[float], bins: int = 10) -> list[int]:
    """Counts of `values` in `bins` equal bins over 0..1 (1.0 falls in the last bin)."""
    counts = [0] * bins
    for v in values:
        counts[min(max(int(v * bins), 0), bins - 1)] += 1
    return counts
