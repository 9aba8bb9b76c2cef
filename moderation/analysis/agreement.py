"""The consensus of several reviewers' labels on one item (docs/production.md).

Method: the action most reviewers chose; a tie goes to the stricter action on
the ladder (allow < flag < review < block), because a reviewer who saw harm is
more often right than one who missed it. Categories are those at least half of
the reviewers named. One label is its own consensus.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

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
