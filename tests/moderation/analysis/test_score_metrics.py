"""The classifier metrics equal scikit-learn's on the same predictions."""

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from moderation.analysis import score_metrics as sm


def _predictions(seed: int, n: int = 300, ties: bool = False):
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < 0.3
    scores = np.clip(rng.normal(0.35 + 0.3 * labels, 0.2), 0, 1)
    if ties:
        scores = np.round(scores, 1)
    return labels, scores


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ties", [False, True])
def test_metrics_equal_scikit_learn(seed, ties):
    labels, scores = _predictions(seed, ties=ties)
    precision, recall, thresholds = skm.precision_recall_curve(labels, scores)
    curve = sm.pr_curve(labels, scores)
    np.testing.assert_allclose(curve.precision, precision)
    np.testing.assert_allclose(curve.recall, recall)
    np.testing.assert_allclose(curve.thresholds, thresholds)
    assert sm.average_precision(labels, scores) == pytest.approx(
        skm.average_precision_score(labels, scores)
    )
    assert sm.roc_auc(labels, scores) == pytest.approx(skm.roc_auc_score(labels, scores))
    assert sm.brier(labels, scores) == pytest.approx(skm.brier_score_loss(labels, scores))
    fraction, mean = sm.calibration_bins(labels, scores)
    sk_fraction, sk_mean = calibration_curve(labels, scores, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(fraction, sk_fraction)
    np.testing.assert_allclose(mean, sk_mean)


def test_counts_at_a_threshold_equal_scikit_learn():
    labels, scores = _predictions(3)
    got = sm.at_threshold(labels, scores, 0.5)
    predicted = scores >= 0.5
    assert got["precision"] == pytest.approx(skm.precision_score(labels, predicted))
    assert got["recall"] == pytest.approx(skm.recall_score(labels, predicted))
    assert got["f1"] == pytest.approx(skm.f1_score(labels, predicted))
    tn, fp, fn, tp = skm.confusion_matrix(labels, predicted).ravel()
    assert (got["tn"], got["fp"], got["fn"], got["tp"]) == (tn, fp, fn, tp)


def test_suggested_threshold_is_the_lowest_reaching_the_target():
    labels = np.array([0, 0, 1, 0, 1, 1], dtype=bool)
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.8, 0.9])
    # >= 0.3: 3 TP / 4 predicted = 0.75; >= 0.8: 2/2 = 1.0
    suggestion = sm.threshold_for_precision(labels, scores, 0.9)
    assert (suggestion.threshold, suggestion.precision, suggestion.reached) == (0.8, 1.0, True)
    assert suggestion.recall == pytest.approx(2 / 3)
    assert sm.threshold_for_precision(labels, scores, 0.7).threshold == 0.3


def test_unreachable_target_falls_back_to_the_best_f1_and_says_so():
    labels = np.array([1, 0, 1, 0], dtype=bool)
    scores = np.array([0.5, 0.5, 0.5, 0.5])
    suggestion = sm.threshold_for_precision(labels, scores, 0.9)
    assert (suggestion.threshold, suggestion.reached) == (0.5, False)


def test_no_positive_is_refused():
    with pytest.raises(ValueError, match="no positive"):
        sm.pr_curve([False, False], [0.1, 0.2])
