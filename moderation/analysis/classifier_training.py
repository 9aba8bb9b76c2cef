"""Training a custom classifier on feature rows: a linear model, honest metrics, label issues.

Pure Python (numpy, scikit-learn, cleanlab), no Django. The choices:

- **Model**: scikit-learn's LogisticRegression (L2, lbfgs, C=1) on standardised
  features, the classes weighted equally ("balanced") whatever their sizes. A
  linear model over pinned encoder features trains in seconds, needs no GPU to
  score, and its weights are a plain vector the bundle carries as JSON.
- **Honest scores**: stratified k-fold (k = min(5, the smaller class), shuffled
  with a fixed seed): each sample's out-of-fold (OOF) score comes from a model
  that never saw it. Every metric, curve and label issue is computed on those.
- **Calibration**: Platt scaling, a 1-d logistic regression of the labels on
  the OOF decision values, so the score is a probability. Platt rather than
  isotonic: it keeps the score a smooth monotone function of the linear model
  (two numbers in the bundle; the threshold means the same thing in the fleet)
  and does not overfit the small sets custom classifiers are trained on. The
  Platt fit uses the same OOF values it is judged on, a small optimism.
- **Final weights**: one more fit on every sample; its decision values go
  through the Platt coefficients.
- **Label issues**: cleanlab's `find_label_issues` on the OOF probabilities,
  ranked by self-confidence: the samples whose label the model disagrees with
  most, to relabel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from moderation.analysis import score_metrics as sm

MAX_FOLDS = 5
SEED = 0


@dataclass(frozen=True)
class Trained:
    """A fitted classifier's coefficients, and what its out-of-fold scores showed."""

    weights: np.ndarray  # on standardised features
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    platt_a: float
    platt_b: float
    folds: int
    oof: np.ndarray  # calibrated out-of-fold probability of each training row
    label_issues: list[int] = field(default_factory=list)  # row indices, worst first

    def coefficients(self) -> dict:
        """The JSON form a classifier version stores (no pickle anywhere)."""
        return {
            "model": "sklearn.linear_model.LogisticRegression",
            "weights": [float(w) for w in self.weights],
            "bias": float(self.bias),
            "scaler": {"mean": [float(m) for m in self.mean],
                       "scale": [float(s) for s in self.scale]},
            "calibration": {"method": "platt", "a": float(self.platt_a), "b": float(self.platt_b)},
        }  # fmt: skip


def folds_for(labels: np.ndarray) -> int:
    """The number of folds: five, or fewer when the smaller class has fewer rows."""
    smaller = int(min(labels.sum(), len(labels) - labels.sum()))
    return max(2, min(MAX_FOLDS, smaller))


def _model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)


def _scaler(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    # A constant feature (an output that never fires) is left unscaled, as StandardScaler does.
    return mean, np.where(scale > 1e-12, scale, 1.0)


def _fit(x: np.ndarray, y: np.ndarray):
    mean, scale = _scaler(x)
    model = _model().fit((x - mean) / scale, y)
    return model, mean, scale


def _oof_decision(x, y, folds: int, progress: Callable[[int, int], None] | None) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    z = np.zeros(len(y), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for done, (train, test) in enumerate(splitter.split(x, y), start=1):
        model, mean, scale = _fit(x[train], y[train])
        z[test] = model.decision_function((x[test] - mean) / scale)
        if progress:
            progress(done, folds + 1)
    return z


def platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit p = sigmoid(a z + b) to the labels (unregularised in effect); return (a, b)."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e6, max_iter=1000).fit(z.reshape(-1, 1), y)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def label_issues(y: np.ndarray, oof: np.ndarray) -> list[int]:
    """Rows whose label cleanlab finds likely wrong, the least self-confident first."""
    from cleanlab.filter import find_label_issues

    probs = np.column_stack([1.0 - oof, oof])
    found = find_label_issues(
        y.astype(int), probs, return_indices_ranked_by="self_confidence", n_jobs=1
    )
    return [int(i) for i in found]


def train(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Trained:
    """Fit the classifier on (n, d) features and boolean labels; see the module doc."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    folds = folds_for(y)
    z = _oof_decision(x, y, folds, progress)
    a, b = platt(z, y)
    oof = sigmoid(a * z + b)
    model, mean, scale = _fit(x, y)
    if progress:
        progress(folds + 1, folds + 1)
    return Trained(
        weights=model.coef_[0].astype(np.float64),
        bias=float(model.intercept_[0]),
        mean=mean,
        scale=scale,
        platt_a=a,
        platt_b=b,
        folds=folds,
        oof=oof,
        label_issues=label_issues(y, oof),
    )


def metrics(labels: np.ndarray, oof: np.ndarray, *, target_precision: float) -> dict:
    """The OOF metrics a version stores: AP, AUC, Brier, curves and a suggested threshold."""
    y = np.asarray(labels, dtype=bool)
    suggestion = sm.threshold_for_precision(y, oof, target_precision)
    curve = sm.pr_curve(y, oof)
    fraction, mean_score = sm.calibration_bins(y, oof)
    return {
        "samples": int(len(y)),
        "positives": int(y.sum()),
        "negatives": int((~y).sum()),
        "average_precision": sm.average_precision(y, oof),
        "roc_auc": sm.roc_auc(y, oof),
        "brier": sm.brier(y, oof),
        "target_precision": target_precision,
        "suggested_threshold": suggestion.threshold,
        "suggestion_reached": suggestion.reached,
        "at_suggestion": sm.at_threshold(y, oof, suggestion.threshold),
        "pr_curve": _thin(curve.recall, curve.precision),
        "calibration": [[float(m), float(f)] for m, f in zip(mean_score, fraction, strict=True)],
    }


def _thin(recall: np.ndarray, precision: np.ndarray, points: int = 200) -> list[list[float]]:
    """At most `points` (recall, precision) pairs of the curve, ends kept, for storing."""
    index = np.unique(np.linspace(0, len(recall) - 1, min(points, len(recall))).astype(int))
    return [[round(float(recall[i]), 5), round(float(precision[i]), 5)] for i in index]
