import pytest

from moderation.analysis.agreement import (
    category_agreements,
    cohen_kappa,
    consensus_action,
    consensus_categories,
    pair_agreements,
)


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ([], None),
        (["flag"], "flag"),
        (["allow", "allow", "block"], "allow"),
        (["allow", "block"], "block"),
        (["review", "flag", "flag", "review"], "review"),
    ],
)
def test_consensus_is_the_majority_and_a_tie_goes_to_the_stricter_action(actions, expected):
    assert consensus_action(actions) == expected


def test_consensus_categories_are_those_half_the_reviewers_named():
    labels = [["sexual", "violence"], ["sexual"], ["self-harm"], []]
    assert consensus_categories(labels) == ["sexual"]


def _wikipedia_example():
    """50 items: both yes 20, only the first yes 5, only the second yes 10, both no 15."""
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    return first, second


def test_kappa_of_the_textbook_example_is_0_4():
    first, second = _wikipedia_example()
    assert cohen_kappa(first, second) == pytest.approx(0.4)


def test_kappa_of_three_labels_is_sklearns_documented_value():
    first = ["negative", "positive", "negative", "neutral", "positive"]
    second = ["negative", "positive", "negative", "neutral", "negative"]
    assert cohen_kappa(first, second) == pytest.approx(0.6875)


@pytest.mark.parametrize("seed", range(5))
def test_kappa_matches_sklearn_on_random_labels(seed):
    import random

    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(seed)
    first = [rng.choice(["allow", "flag", "review", "block"]) for _ in range(60)]
    second = [a if rng.random() < 0.6 else rng.choice(["allow", "block"]) for a in first]
    assert cohen_kappa(first, second) == pytest.approx(metrics.cohen_kappa_score(first, second))


def test_kappa_is_undefined_without_items_or_variation():
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["block"] * 3, ["block"] * 3) is None
    assert cohen_kappa(["allow", "block"], ["block", "allow"]) == pytest.approx(-1.0)


def test_pair_agreement_counts_only_items_both_labelled():
    items = [
        {"ann": ("block", []), "bob": ("block", []), "cy": ("allow", [])},
        {"ann": ("allow", []), "bob": ("allow", [])},
        {"ann": ("allow", []), "bob": ("block", [])},
        {"bob": ("flag", []), "cy": ("flag", [])},
    ]
    pairs = {(p.first, p.second): p for p in pair_agreements(items)}
    assert pairs["ann", "bob"].items == 3
    assert pairs["ann", "bob"].agreement == pytest.approx(2 / 3)
    assert pairs["ann", "bob"].kappa == pytest.approx(
        cohen_kappa(["block", "allow", "allow"], ["block", "allow", "block"])
    )
    assert pairs["ann", "cy"].items == 1
    assert pairs["bob", "cy"].items == 2


def test_category_agreement_pools_label_pairs_per_category():
    first, second = _wikipedia_example()
    items = [
        {
            "ann": ("block", ["sexual"] if a == "yes" else []),
            "bob": ("block", ["sexual"] if b == "yes" else []),
        }
        for a, b in zip(first, second, strict=True)
    ]
    result = category_agreements(items, ["sexual", "violence"])
    assert [(c.category, c.pairs) for c in result] == [("sexual", 50)]
    assert result[0].kappa == pytest.approx(0.4)
