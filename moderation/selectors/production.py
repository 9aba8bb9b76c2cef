"""A policy's production figures: decisions over time, review share and backlog, audit estimates.

Decisions are read from DecisionCount (every decision, counted per minute), never
from the sampled raw records. Precision and recall come from the random audit
stratum only (moderation.analysis.production); labels of records kept because
they were `review` or `block` decisions are biased and not counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from kernel.errors import ApplicationError
from moderation.analysis import drift as stats
from moderation.analysis import plots
from moderation.analysis.agreement import consensus_action
from moderation.analysis.production import AuditLabel, OutcomeEstimate, estimate
from moderation.engine.decision import ACTIONS
from moderation.models import (
    DecisionCount,
    DecisionRecord,
    ReviewItem,
    ReviewLabel,
    SampleResult,
    TestRun,
)
from moderation.selectors import quality
from tenants.scoping import scoped

BUCKETS = {"hour": (TruncHour, dt.timedelta(hours=1)), "day": (TruncDay, dt.timedelta(days=1))}
DEFAULT_DAYS = 2
MAX_DAYS = 90
# Audit labels are few (1% of decisions), so estimates pool a longer window: the default retention.
ESTIMATE_DAYS = 30

BIAS_NOTE = (
    "Estimated from the random audit stratum only, each record weighted by the inverse of "
    "its inclusion probability. Labels of decisions kept because they were sent to review "
    "(or were blocks) are not a random sample and are not counted."
)


def _counts(*, policy, since: dt.datetime):
    return scoped(DecisionCount, policy.tenant).filter(policy=policy, minute__gte=since, rule_id="")


@dataclass
class ActionSeries:
    """Decisions per action in each time bucket, oldest first, and their chart."""

    bucket: str
    starts: list[dt.datetime]
    counts: dict[str, list[int]]
    chart: plots.LineChart | None


def decisions_over_time(*, policy, since: dt.datetime, bucket: str = "hour") -> ActionSeries:
    """Every decision of the policy since `since`, per action and hour (or day).

    Buckets without a decision are shown as 0, so the x axis keeps its time scale.
    """
    trunc, step = BUCKETS[bucket]
    rows = (
        _counts(policy=policy, since=since)
        .annotate(start=trunc("minute", tzinfo=dt.UTC))
        .values("start", "action")
        .annotate(n=Sum("count"))
    )
    found = {(r["start"], r["action"]): r["n"] for r in rows}
    if not found:
        return ActionSeries(bucket, [], {}, None)
    first, last = min(s for s, _ in found), max(s for s, _ in found)
    starts = [first + i * step for i in range(int((last - first) / step) + 1)]
    actions = [a for a in ACTIONS if any(action == a for _, action in found)]
    counts = {a: [found.get((s, a), 0) for s in starts] for a in actions}
    fmt = "%H:%M" if bucket == "hour" else "%m-%d"
    chart = plots.line_chart(
        [plots.Series(a, counts[a]) for a in actions],
        labels=[s.strftime(fmt) for s in starts],
        width=640,
        height=200,
    )
    return ActionSeries(bucket, starts, counts, chart)


@dataclass
class ChannelVersionRow:
    """Decisions of one channel and version: per action, in all, and the share sent to review."""

    channel: str
    version_number: int
    actions: dict[str, int]
    total: int

    @property
    def review_share(self) -> float:
        return self.actions.get("review", 0) / self.total if self.total else 0.0

    @property
    def review_percent(self) -> float:
        return 100 * self.review_share


def decisions_by_channel(*, policy, since: dt.datetime) -> list[ChannelVersionRow]:
    """Decisions per channel and version since `since`, by channel then newest version."""
    rows: dict[tuple[str, int], ChannelVersionRow] = {}
    for r in (
        _counts(policy=policy, since=since)
        .values("channel", "version_number", "action")
        .annotate(n=Sum("count"))
    ):
        key = (r["channel"], r["version_number"])
        row = rows.setdefault(key, ChannelVersionRow(*key, dict.fromkeys(ACTIONS, 0), 0))
        row.actions[r["action"]] = row.actions.get(r["action"], 0) + r["n"]
        row.total += r["n"]
    return sorted(rows.values(), key=lambda r: (r.channel, -r.version_number))


@dataclass
class Backlog:
    """Open review items of the policy's records, and how long the oldest has waited."""

    open_items: int
    oldest_at: dt.datetime | None
    now: dt.datetime

    @property
    def oldest_minutes(self) -> float | None:
        if self.oldest_at is None:
            return None
        return (self.now - self.oldest_at).total_seconds() / 60


def review_backlog(*, policy, now: dt.datetime | None = None) -> Backlog:
    """How many of the policy's review items are open, and since when the oldest waits."""
    found = (
        scoped(ReviewItem, policy.tenant)
        .filter(record__policy=policy, status=ReviewItem.Status.OPEN)
        .aggregate(n=Count("id"), oldest=Min("created_at"))
    )
    return Backlog(found["n"], found["oldest"], now or timezone.now())


def audit_labels(*, policy, since: dt.datetime) -> list[AuditLabel]:
    """The audited records of the policy decided since `since` whose review is done, each with
    the consensus of its labels (moderation.analysis.agreement)."""
    records = scoped(DecisionRecord, policy.tenant).filter(
        policy=policy, audited=True, decided_at__gte=since, inclusion_probability__gt=0
    )
    labels = (
        scoped(ReviewLabel, policy.tenant)
        .filter(record__in=records, item__status=ReviewItem.Status.DONE)
        .values_list("record_id", "action", "record__action", "record__inclusion_probability")
        .order_by("record_id", "id")
    )
    by_record: dict[int, tuple[str, float, list[str]]] = {}
    for record_id, labelled, decided, probability in labels:
        by_record.setdefault(record_id, (decided, probability, []))[2].append(labelled)
    return [
        AuditLabel(decided, consensus_action(actions), probability)
        for decided, probability, actions in by_record.values()
    ]


def audit_estimates(*, policy, since: dt.datetime) -> dict[str, OutcomeEstimate]:
    """Weighted precision and recall of block and of flag-or-worse from the audit stratum."""
    return estimate(audit_labels(policy=policy, since=since))


@dataclass
class Production:
    """Everything the quality page and API show of the policy in production."""

    since: dt.datetime
    estimates_since: dt.datetime
    series: ActionSeries
    channels: list[ChannelVersionRow]
    backlog: Backlog
    estimates: dict[str, OutcomeEstimate]
    note: str = BIAS_NOTE
    total: int = field(init=False)
    review_share: float = field(init=False)

    def __post_init__(self):
        self.total = sum(r.total for r in self.channels)
        review = sum(r.actions.get("review", 0) for r in self.channels)
        self.review_share = review / self.total if self.total else 0.0

    @property
    def review_percent(self) -> float:
        return 100 * self.review_share


def policy_production(
    *,
    policy,
    days: int = DEFAULT_DAYS,
    bucket: str | None = None,
    estimate_days: int = ESTIMATE_DAYS,
    now: dt.datetime | None = None,
) -> Production:
    """The policy's decisions over the last `days` (hourly up to two days, else daily), its
    review backlog now, and precision and recall from the last `estimate_days` of audits."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    estimates_since = now - dt.timedelta(days=estimate_days)
    bucket = bucket or ("hour" if days <= 2 else "day")
    return Production(
        since=since,
        estimates_since=estimates_since,
        series=decisions_over_time(policy=policy, since=since, bucket=bucket),
        channels=decisions_by_channel(policy=policy, since=since),
        backlog=review_backlog(policy=policy, now=now),
        estimates=audit_estimates(policy=policy, since=estimates_since),
    )


# Drift of production scores against a suite

# Newest audited records compared, so evaluating a rule stays cheap at any traffic.
DRIFT_RECORDS = 5000


def production_score_samples(*, policy, since: dt.datetime) -> dict[str, list[float]]:
    """Scores of the policy's newest audited records since `since` (up to DRIFT_RECORDS).

    The audit stratum only: review and block records are kept for their scores and
    would show a shift that is only the sampling.
    """
    rows = (
        scoped(DecisionRecord, policy.tenant)
        .filter(policy=policy, audited=True, decided_at__gte=since)
        .order_by("-decided_at")
        .values_list("scores", flat=True)[:DRIFT_RECORDS]
    )
    return stats.record_scores(rows)


def suite_production_scores(run: TestRun) -> dict[str, list[float]]:
    """A suite's scores under the keys production records use (analysis.drift)."""
    rows = scoped(SampleResult, run.tenant).filter(run=run).values_list("decision", flat=True)
    return stats.production_scores(rows.iterator(chunk_size=500))


def production_drift(
    *, baseline: TestRun, since: dt.datetime, psi_alert: float = stats.PSI_ALERT
) -> list[quality.ScoreDrift]:
    """PSI and KS of every score from the baseline suite to production since `since`."""
    return quality.scores_drift(
        suite_production_scores(baseline),
        production_score_samples(policy=baseline.policy, since=since),
        psi_alert=psi_alert,
    )


def drift_against_production(
    *, policy, baseline_id: int | None, since: dt.datetime
) -> quality.DriftComparison:
    """The drift page's comparison of a suite (default the newest) with production since
    `since` (its audited decisions); ApplicationError when either side is missing."""
    suites = quality.finished_suites(policy=policy)
    baseline = suites.get(pk=baseline_id) if baseline_id else suites.first()
    if baseline is None:
        raise ApplicationError(
            f"Run a suite of {policy.name} on a sample set to compare production with it."
        )
    current = production_score_samples(policy=policy, since=since)
    if not current:
        raise ApplicationError(
            f"No audited production decision of {policy.name} since {since:%Y-%m-%d %H:%M} UTC: "
            "the fleet keeps a random audit share of decisions once a version with sampling "
            "is published and served."
        )
    rows = quality.scores_drift(suite_production_scores(baseline), current)
    return quality.DriftComparison(
        baseline=baseline,
        current=None,
        live_runs=[],
        rows=rows,
        production_since=since,
        production_records=max(len(v) for v in current.values()),
    )
