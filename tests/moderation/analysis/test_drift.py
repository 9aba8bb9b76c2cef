"""Drift statistics against hand-computed values and scipy."""

import math

import numpy as np
import pytest
from scipy import stats

from moderation.analysis import drift


def test_psi_matches_a_hand_computed_value():
    # Two bins: baseline 50/50, current 80/20.
    baseline = [0.1] * 50 + [0.9] * 50
    current = [0.1] * 80 + [0.9] * 20
    expected = (0.8 - 0.5) * math.log(0.8 / 0.5) + (0.2 - 0.5) * math.log(0.2 / 0.5)
    assert drift.psi(baseline, current, bins=2) == pytest.approx(expected)


def test_psi_of_identical_samples_is_zero():
    scores = np.linspace(0, 1, 200)
    assert drift.psi(scores, scores) == pytest.approx(0.0)


def test_empty_bins_stay_finite():
    assert math.isfinite(drift.psi([0.05] * 10, [0.95] * 10))


@pytest.mark.parametrize("seed", range(5))
def test_ks_agrees_with_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.beta(2, 5, size=int(rng.integers(20, 300)))
    b = rng.beta(2 + seed * 0.3, 5, size=int(rng.integers(20, 300)))
    statistic, pvalue = drift.ks_2samp(a, b)
    assert statistic == pytest.approx(stats.ks_2samp(a, b).statistic)
    effective_n = len(a) * len(b) / (len(a) + len(b))
    expected = stats.kstwobign.sf(statistic * math.sqrt(effective_n))
    assert pvalue == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_a_shifted_distribution_is_flagged_and_a_stable_one_is_not():
    rng = np.random.default_rng(7)
    baseline = rng.beta(2, 8, size=500)
    assert not drift.drift(baseline, rng.beta(2, 8, size=500)).flagged
    assert drift.drift(baseline, rng.beta(6, 3, size=500)).flagged
