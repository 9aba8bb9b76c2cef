"""Training: out-of-fold scores, Platt calibration, final weights and label issues."""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from moderation.analysis import classifier_training as ct


def _data(n=200, d=6, flip=()):
    rng = np.random.default_rng(7)
    y = np.arange(n) % 2 == 0
    x = rng.normal(size=(n, d)) + np.where(y[:, None], 1.5, -1.5) * (np.arange(d) < 2)
    y = y.copy()
    y[list(flip)] = ~y[list(flip)]
    return x, y


def test_final_weights_equal_a_bare_sklearn_fit_on_standardised_features():
    x, y = _data()
    trained = ct.train(x, y)
    scaled = StandardScaler().fit_transform(x)
    bare = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(scaled, y)
    np.testing.assert_allclose(trained.weights, bare.coef_[0], rtol=1e-4, atol=1e-6)
    assert abs(trained.bias - bare.intercept_[0]) < 1e-5


def test_oof_scores_come_from_models_that_never_saw_the_row():
    x, y = _data()
    trained = ct.train(x, y)
    z = np.zeros(len(y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=ct.SEED).split(x, y):
        scaler = StandardScaler().fit(x[train])
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
        model.fit(scaler.transform(x[train]), y[train])
        z[test] = model.decision_function(scaler.transform(x[test]))
    a, b = ct.platt(z, y)
    np.testing.assert_allclose(trained.oof, ct.sigmoid(a * z + b), rtol=1e-6)
    assert trained.folds == 5


def test_flipped_labels_are_found_as_label_issues():
    flipped = (3, 10, 51)
    x, y = _data(flip=flipped)
    trained = ct.train(x, y)
    assert set(flipped) <= set(trained.label_issues)
    assert len(trained.label_issues) < 20


def test_folds_shrink_with_the_smaller_class():
    assert ct.folds_for(np.array([1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)) == 3
    assert ct.folds_for(np.array([1] * 50 + [0] * 50, dtype=bool)) == 5


def test_metrics_name_a_threshold_and_keep_curves():
    x, y = _data()
    trained = ct.train(x, y)
    m = ct.metrics(y, trained.oof, target_precision=0.9)
    assert m["at_suggestion"]["precision"] >= 0.9
    assert m["pr_curve"][0][0] == 1.0
    assert m["pr_curve"][-1] == [0.0, 1.0]
    assert 0.9 < m["roc_auc"] <= 1.0
    assert (m["positives"], m["negatives"]) == (100, 100)


def test_progress_is_reported_per_fold():
    x, y = _data()
    seen = []
    ct.train(x, y, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]
