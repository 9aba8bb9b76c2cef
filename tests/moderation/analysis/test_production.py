"""Production precision and recall from the audit stratum: weighted, with Wilson-Kish intervals."""

import math

import pytest

from moderation.analysis.metrics import action_metrics
from moderation.analysis.production import (
    AuditLabel,
    estimate,
    kish_n,
    weighted_ratio,
    wilson,
)

# decided, labelled: 3 true blocks, 1 false block, 2 missed blocks, 4 true allows.
PAIRS = [
    ("block", "block"), ("block", "block"), ("block", "block"), ("block", "allow"),
    ("allow", "block"), ("flag", "block"), ("allow", "allow"), ("allow", "allow"),
    ("flag", "flag"), ("review", "allow"),
]  # fmt: skip


def test_equal_weights_give_the_textbook_precision_and_recall():
    labels = [AuditLabel(d, t, 0.01) for d, t in PAIRS]
    textbook = action_metrics([t for _, t in PAIRS], [d for d, _ in PAIRS])
    found = estimate(labels)
    for outcome, binary in textbook.items():
        assert found[outcome].precision.value == pytest.approx(binary.precision)
        assert found[outcome].recall.value == pytest.approx(binary.recall)
    block = found["block"]
    assert (block.precision.n, block.recall.n) == (4, 5)
    assert block.precision.n_effective == pytest.approx(4)  # equal weights: n_eff = n


def test_equal_weights_give_the_textbook_wilson_interval():
    # Precision of block: 3 of 4. Wilson (z = 1.96) for 3/4: 0.3006 to 0.9544.
    block = estimate([AuditLabel(d, t, 0.5) for d, t in PAIRS])["block"].precision
    assert (block.low, block.high) == (
        pytest.approx(0.30064, abs=1e-4),
        pytest.approx(0.95440, abs=1e-4),
    )


def test_weights_are_inverse_inclusion_probabilities_worked_by_hand():
    labels = [
        AuditLabel("block", "block", 0.1),  # w 10
        AuditLabel("block", "allow", 0.5),  # w 2
        AuditLabel("block", "block", 0.25),  # w 4
        AuditLabel("allow", "block", 0.05),  # w 20
    ]
    block = estimate(labels)["block"]
    # precision: (10 + 4) / (10 + 2 + 4); recall: (10 + 4) / (10 + 4 + 20)
    assert block.precision.value == pytest.approx(14 / 16)
    assert block.recall.value == pytest.approx(14 / 34)
    # Kish n of the precision's denominator: 16² / (100 + 4 + 16)
    assert block.precision.n_effective == pytest.approx(256 / 120)
    low, high = wilson(14 / 16, 256 / 120)
    assert (block.precision.low, block.precision.high) == (pytest.approx(low), pytest.approx(high))
    assert block.precision.low < 14 / 16 < block.precision.high


def test_unequal_weights_widen_the_interval():
    equal = weighted_ratio([(True, 1.0)] * 6 + [(False, 1.0)] * 2)
    unequal = weighted_ratio([(True, 1.0)] * 5 + [(True, 7.0)] + [(False, 1.0)] * 2)
    assert kish_n([1.0] * 8) == 8
    assert unequal.n_effective < equal.n_effective
    assert unequal.high - unequal.low > equal.high - equal.low


def test_no_record_in_the_denominator_gives_no_value():
    found = estimate([AuditLabel("allow", "allow", 0.01)])["block"]
    assert found.precision.value is None
    assert found.precision.n == 0
    assert found.recall.value is None


def test_wilson_matches_its_formula_and_needs_trials():
    low, high = wilson(0.5, 100)
    assert (low + high) / 2 == pytest.approx(0.5)
    assert high - low == pytest.approx(
        2 * 1.959964 * math.sqrt(0.25 / 100 + 1.959964**2 / 40000) / (1 + 1.959964**2 / 100),
        rel=1e-5,
    )
    with pytest.raises(ValueError, match="n > 0"):
        wilson(0.5, 0)
