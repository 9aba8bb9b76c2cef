"""Production decisions with known figures, for the production selectors, pages, API and alerts."""

import datetime as dt

from django.utils import timezone

from tests.moderation.production_factories import (
    DecisionCountFactory,
    DecisionRecordFactory,
    ReviewItemFactory,
    ReviewLabelFactory,
)


def hours_ago(hours: float) -> dt.datetime:
    return (timezone.now() - dt.timedelta(hours=hours)).replace(second=0, microsecond=0)


def labelled(version, decided, labels, *, probability=0.5, audited=True, reviewers=(None,)):
    """A record decided `decided`, in a done item labelled `labels` (one per reviewer)."""
    record = DecisionRecordFactory(
        version=version,
        action=decided,
        audited=audited,
        inclusion_probability=probability if audited else None,
        reasons=["audit"] if audited else [decided],
    )
    item = ReviewItemFactory(
        record=record, status="done", labels_wanted=len(labels), labels_done=len(labels)
    )
    for action, reviewer in zip(labels, reviewers, strict=True):
        ReviewLabelFactory(item=item, action=action, reviewer=reviewer)
    return record


def audited_blocks(version, *, true_blocks: int, false_blocks: int, probability=0.5):
    """Audited block decisions labelled block (`true_blocks`) or allow (`false_blocks`)."""
    for _ in range(true_blocks):
        labelled(version, "block", ["block"], probability=probability)
    for _ in range(false_blocks):
        labelled(version, "block", ["allow"], probability=probability)


def counts(policy, rows):
    """DecisionCount rows: (hours ago, channel, version number, action, count)."""
    for hours, channel, number, action, n in rows:
        DecisionCountFactory(
            policy=policy,
            minute=hours_ago(hours),
            channel=channel,
            version_number=number,
            action=action,
            count=n,
        )
