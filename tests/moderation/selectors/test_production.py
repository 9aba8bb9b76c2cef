"""Production figures of a policy: decisions over time, review backlog, audit-stratum estimates."""

import datetime as dt

import pytest
from django.utils import timezone

from moderation.selectors import production
from tests.moderation.production_data import audited_blocks, counts, hours_ago, labelled
from tests.moderation.production_factories import (
    DecisionCountFactory,
    DecisionRecordFactory,
    ReviewItemFactory,
)
from tests.policy_admin.factories import PolicyFactory

pytestmark = pytest.mark.django_db


def test_decisions_are_counted_per_action_and_hour_with_empty_hours_as_zero(v1):
    policy = v1.policy
    counts(
        policy,
        [
            (3, "production", 1, "allow", 50),
            (3, "production", 1, "block", 2),
            (1, "staging", 1, "allow", 5),
            (0.5, "production", 1, "review", 4),
        ],
    )
    DecisionCountFactory(policy=policy, minute=hours_ago(1), rule_id="kw:1", action="block")
    DecisionCountFactory(policy=policy, minute=hours_ago(200), action="allow", count=99)

    series = production.decisions_over_time(
        policy=policy, since=timezone.now() - dt.timedelta(days=1), bucket="hour"
    )

    assert len(series.starts) in (3, 4)  # 3 h ago to 0.5 h ago, whole hours
    assert sum(series.counts["allow"]) == 55  # per-rule rows and old minutes are left out
    assert sum(series.counts["block"]) == 2
    assert series.counts["allow"][0] == 50
    assert 0 in series.counts["allow"]  # the hour without one still has its point
    assert [line.name for line in series.chart.lines] == ["allow", "review", "block"]


def test_the_table_has_a_row_per_channel_and_version_with_its_review_share(v1):
    counts(
        v1.policy,
        [
            (2, "production", 1, "allow", 90),
            (2, "production", 1, "review", 10),
            (1, "production", 2, "allow", 3),
            (1, "staging", 1, "block", 1),
        ],
    )
    rows = production.decisions_by_channel(
        policy=v1.policy, since=timezone.now() - dt.timedelta(days=1)
    )
    assert [(r.channel, r.version_number, r.total) for r in rows] == [
        ("production", 2, 3),
        ("production", 1, 100),
        ("staging", 1, 1),
    ]
    assert rows[1].review_share == pytest.approx(0.1)
    assert rows[1].actions == {"allow": 90, "flag": 0, "review": 10, "block": 0}


def test_the_backlog_counts_open_items_and_the_age_of_the_oldest(v1):
    now = timezone.now()
    old = ReviewItemFactory(record=DecisionRecordFactory(version=v1))
    ReviewItemFactory(record=DecisionRecordFactory(version=v1))
    ReviewItemFactory(record=DecisionRecordFactory(version=v1), status="done")
    type(old).objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(minutes=42))

    backlog = production.review_backlog(policy=v1.policy, now=now)

    assert backlog.open_items == 2
    assert backlog.oldest_minutes == pytest.approx(42)


def test_an_empty_backlog_has_no_age(v1):
    backlog = production.review_backlog(policy=v1.policy)
    assert (backlog.open_items, backlog.oldest_minutes) == (0, None)


def test_estimates_use_the_audit_stratum_only_weighted_and_by_consensus(v1, admin, editor, viewer):
    audited_blocks(v1, true_blocks=3, false_blocks=1, probability=0.5)
    labelled(v1, "block", ["allow"], probability=0.05)  # weight 20
    # Consensus of three reviewers: block (2 of 3).
    labelled(v1, "allow", ["block", "block", "allow"], reviewers=(admin, editor, viewer))
    # Review-band labels: biased, never counted.
    for _ in range(5):
        labelled(v1, "block", ["block"], audited=False)

    found = production.audit_estimates(
        policy=v1.policy, since=timezone.now() - dt.timedelta(days=1)
    )

    block = found["block"]
    assert block.precision.n == 5
    assert block.precision.value == pytest.approx(3 * 2 / (4 * 2 + 20))
    assert block.recall.n == 4
    assert block.recall.value == pytest.approx(6 / 8)
    assert block.precision.low < block.precision.value < block.precision.high


def test_an_item_still_waiting_for_labels_is_not_counted(v1):
    record = labelled(v1, "block", ["block"])
    record.review_items.update(status="open")
    found = production.audit_estimates(
        policy=v1.policy, since=timezone.now() - dt.timedelta(days=1)
    )
    assert found["block"].precision.n == 0


def test_another_policys_decisions_are_not_counted(v1, tenant):
    other = PolicyFactory(tenant=tenant, name="Other", slug="other")
    counts(other, [(1, "production", 1, "allow", 7)])
    audited_blocks(v1, true_blocks=1, false_blocks=0)
    figures = production.policy_production(policy=v1.policy)
    assert figures.total == 0
    assert figures.series.chart is None
    assert figures.estimates["block"].precision.n == 1
    assert figures.series.bucket == "hour"
