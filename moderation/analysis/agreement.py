"""The consensus of several reviewers' labels on one item (docs/production.md).

Method: the action most reviewers chose; a tie goes to the stricter action on
the ladder (allow < flag < review < block), because a reviewer who saw harm is
more often right than one who missed it. Categories are those at least half of
the reviewers named. One label is its own consensus.

Agreement on overlapped items: Cohen's kappa of the actions per reviewer pair,
and per category (named or not) pooled over every pair of labels on an item.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from moderation.engine.decision import ACTIONS


def consensus_action(actions: Sequence[str]) -> str | None:
    """The consensus of the actions given, or None when there are none."""
    if not actions:
        return None
    counts = Counter(actions)
    return max(counts, key=lambda action: (counts[action], ACTIONS.index(action)))


def consensus_categories(labels: Sequence[Sequence[str]]) -> list[str]:
    """The categories named by at least half of the labels, sorted."""
    counts = Counter(category for label in labels for category in set(label))
    return sorted(c for c, n in counts.items() if 2 * n >= len(labels))


def cohen_kappa(first: Sequence, second: Sequence) -> float | None:
    """Cohen's kappa of two raters' labels on the same items, in order.

    kappa = (p_o - p_e) / (1 - p_e): p_o the share of items they agree on, p_e
    the agreement expected by chance from each rater's own label frequencies.
    None when it is undefined: no items, or both raters always gave one and
    the same label (p_e = 1). Matches sklearn.metrics.cohen_kappa_score.
    """
    if len(first) != len(second):
        raise ValueError("Both raters must label the same items.")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_a, counts_b = Counter(first), Counter(second)
    expected = sum(counts_a[label] * counts_b[label] for label in counts_a) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class PairAgreement:
    """Two reviewers on the items they both labelled: how many, raw agreement, kappa."""

    first: str
    second: str
    items: int
    agreement: float
    kappa: float | None


@dataclass(frozen=True)
class CategoryAgreement:
    """One category named or not, over every pair of labels given to the same item."""

    category: str
    pairs: int
    kappa: float | None


# One item's labels: reviewer -> (action, categories).
ItemLabels = Mapping[str, tuple[str, Sequence[str]]]


def pair_agreements(items: Sequence[ItemLabels]) -> list[PairAgreement]:
    """Kappa of the actions per reviewer pair, on the items both of them labelled."""
    by_pair: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for labels in items:
        for a, b in combinations(sorted(labels), 2):
            by_pair.setdefault((a, b), []).append((labels[a][0], labels[b][0]))
    result = []
    for (a, b), pairs in sorted(by_pair.items()):
        first, second = [p[0] for p in pairs], [p[1] for p in pairs]
        agreed = sum(x == y for x, y in pairs) / len(pairs)
        result.append(PairAgreement(a, b, len(pairs), agreed, cohen_kappa(first, second)))
    return result


def category_agreements(
    items: Sequence[ItemLabels], categories: Sequence[str]
) -> list[CategoryAgreement]:
    """Per category, the kappa of "named it" against "did not", pooled over label pairs.

    Every pair of reviewers on an item is one observation (the reviewer earlier in
    name order is the first rater). Categories nobody named are left out.
    """
    pairs = [
        (set(labels[a][1]), set(labels[b][1]))
        for labels in items
        for a, b in combinations(sorted(labels), 2)
    ]
    named = {c for first, second in pairs for c in first | second}
    return [
        CategoryAgreement(
            category,
            len(pairs),
            cohen_kappa([category in p[0] for p in pairs], [category in p[1] for p in pairs]),
        )
        for category in categories
        if category in named
    ]
