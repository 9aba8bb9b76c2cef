"""Shadow experiment numbers: the flip matrix, the block gap, the guard, candidate precision."""

import pytest

from moderation.analysis.production import wilson
from moderation.analysis.shadow import FlipMatrix, Share, candidate_precision, guard_tripped


def matrix() -> FlipMatrix:
    # 100 shadowed: 80 allow→allow, 10 allow→block, 5 review→block, 5 block→block
    return FlipMatrix({("allow", "allow"): 80, ("allow", "block"): 10, ("review", "block"): 5,
                       ("block", "block"): 5})  # fmt: skip


def test_flips_are_the_off_diagonal_cells_with_a_wilson_interval():
    m = matrix()
    assert m.total == 100
    assert (m.flips.k, m.flips.n) == (15, 100)
    assert m.flips.interval == pytest.approx(wilson(0.15, 100))
    low, high = m.flips.interval
    assert low == pytest.approx(0.0931, abs=1e-3)  # the textbook Wilson interval of 15/100
    assert high == pytest.approx(0.2328, abs=1e-3)


def test_cells_rows_and_block_gap():
    m = matrix()
    assert m.cell("allow", "block").rate == pytest.approx(0.10)
    rows = dict(m.rows())
    assert [c.k for c in rows["allow"]] == [80, 0, 0, 10]
    assert (m.enforced_block.k, m.shadow_block.k) == (5, 20)
    assert m.block_gap_points() == pytest.approx(15.0)


def test_the_guard_waits_for_enough_requests_then_trips_on_the_gap():
    assert not guard_tripped(matrix(), points=10, requests=101)
    assert guard_tripped(matrix(), points=10, requests=100)
    assert not guard_tripped(matrix(), points=15, requests=50)  # 15 is not more than 15


def test_candidate_precision_counts_stricter_flips_the_label_agrees_with():
    flips = [
        ("allow", "block", "block"),  # right
        ("allow", "block", "review"),  # wrong: the label is laxer than block
        ("review", "block", "block"),  # right
        ("block", "allow", "allow"),  # the candidate was laxer: not judged here
    ]
    share = candidate_precision(flips)
    assert (share.k, share.n) == (2, 3)


def test_an_empty_share_has_no_rate_nor_interval():
    assert Share(0, 0).rate is None
    assert Share(0, 0).interval is None
    assert FlipMatrix({}).block_gap_points() == 0.0
