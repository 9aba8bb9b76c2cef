"""The metric functions agree with scikit-learn's, including empty classes and zero division."""

import math
import random

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from moderation.analysis import metrics
from moderation.engine.decision import ACTIONS


def sklearn_binary(expected, predicted):
    p, r, f, s = precision_recall_fscore_support(
        expected, predicted, labels=[True], average=None, zero_division=0
    )
    cm = confusion_matrix(expected, predicted, labels=[False, True])
    return p[0], r[0], f[0], s[0], cm.tolist()


@pytest.mark.parametrize("seed", range(40))
def test_binary_metrics_match_sklearn_on_random_inputs(seed):
    rng = random.Random(seed)
    n = rng.choice([1, 2, 5, 30, 200])
    bias_t, bias_p = rng.random(), rng.random()
    expected = [rng.random() < bias_t for _ in range(n)]
    predicted = [rng.random() < bias_p for _ in range(n)]
    ours = metrics.binary(expected, predicted)
    p, r, f, s, cm = sklearn_binary(expected, predicted)
    assert ours.precision == pytest.approx(p)
    assert ours.recall == pytest.approx(r)
    assert ours.f1 == pytest.approx(f)
    assert ours.support == s
    assert ours.confusion == cm


@pytest.mark.parametrize(
    ("expected", "predicted"),
    [
        ([False] * 5, [False] * 5),  # no positives at all: every ratio divides by zero
        ([False] * 5, [True, False, False, False, False]),  # empty true class
        ([True] * 4, [False] * 4),  # nothing predicted
        ([True] * 3, [True] * 3),
    ],
)
def test_zero_division_and_empty_classes_give_what_sklearn_gives(expected, predicted):
    ours = metrics.binary(expected, predicted)
    p, r, f, s, cm = sklearn_binary(expected, predicted)
    assert (ours.precision, ours.recall, ours.f1, ours.support) == pytest.approx((p, r, f, s))
    assert ours.confusion == cm


@pytest.mark.parametrize("seed", range(10))
def test_action_and_label_metrics_match_sklearn(seed):
    rng = random.Random(seed)
    actions = list(ACTIONS)
    expected = [rng.choice(actions) for _ in range(60)]
    predicted = [rng.choice(actions) for _ in range(60)]
    got = metrics.action_metrics(expected, predicted)
    p, r, f, _, cm = sklearn_binary(
        [a in ("flag", "review", "block") for a in expected],
        [a in ("flag", "review", "block") for a in predicted],
    )
    assert (got["flag_or_worse"].precision, got["flag_or_worse"].recall) == pytest.approx((p, r))
    assert got["flag_or_worse"].f1 == pytest.approx(f)
    assert (
        got["block"].confusion
        == sklearn_binary([a == "block" for a in expected], [a == "block" for a in predicted])[4]
    )

    labels = ["hate", "violence", "never-used"]
    exp_sets = [set(rng.sample(labels[:2], rng.randint(0, 2))) for _ in range(60)]
    pred_sets = [set(rng.sample(labels[:2], rng.randint(0, 2))) for _ in range(60)]
    per_label = metrics.label_metrics(exp_sets, pred_sets, labels)
    for label in labels:
        p, r, f, s, _ = sklearn_binary(
            [label in e for e in exp_sets], [label in q for q in pred_sets]
        )
        assert (per_label[label].precision, per_label[label].recall) == pytest.approx((p, r))
        assert (per_label[label].f1, per_label[label].support) == pytest.approx((f, s))


@pytest.mark.parametrize("seed", range(10))
def test_percentiles_match_numpy(seed):
    rng = random.Random(seed)
    values = [rng.expovariate(0.1) for _ in range(rng.randint(1, 300))]
    for q in (0, 50, 95, 100):
        assert metrics.percentile(values, q) == pytest.approx(np.percentile(values, q))
    assert math.isnan(metrics.percentile([], 50))


def test_latency_reports_each_stage():
    rows = [{"embed": 1.0, "total": 2.0}, {"embed": 3.0, "total": 4.0}]
    assert metrics.latency(rows) == {
        "embed": {"p50": 2.0, "p95": 2.9},
        "total": {"p50": 3.0, "p95": 3.9},
    }


@pytest.mark.parametrize("seed", range(15))
def test_pr_curve_matches_sklearn_at_each_of_its_thresholds(seed):
    from sklearn.metrics import precision_recall_curve

    rng = random.Random(seed)
    n = rng.randint(2, 80)
    scores = [round(rng.random(), 2) for _ in range(n)]
    positive = [rng.random() < 0.4 for _ in range(n)]
    positive[0], positive[1] = True, False  # both classes present
    precision, recall, thresholds = precision_recall_curve(positive, scores)
    ours = {p.threshold: p for p in metrics.pr_curve(scores, positive)}
    for p, r, t in zip(precision, recall, thresholds, strict=False):
        assert ours[t].precision == pytest.approx(p)
        assert ours[t].recall == pytest.approx(r)


def test_suggested_threshold_meets_the_target_and_is_best_at_the_other():
    scores = [0.1, 0.2, 0.3, 0.6, 0.7, 0.9]
    positive = [False, True, False, True, False, True]
    curve = metrics.pr_curve(scores, positive)
    by_precision = metrics.suggest_threshold(curve, target="precision", value=0.6)
    assert (by_precision.threshold, by_precision.recall) == (0.2, 1.0)
    by_recall = metrics.suggest_threshold(curve, target="recall", value=0.6)
    assert by_recall.threshold == 0.6
    assert metrics.suggest_threshold(curve, target="precision", value=1.01) is None
    assert metrics.histogram([0.0, 0.05, 0.5, 1.0], bins=4) == [2, 0, 1, 1]
