"""A channel's shadow experiment: counts, flips over time, top rules, flipped requests.

Everything is read for the current experiment only: the channel's shadow version,
from the minute it started. Counts come from ShadowCount (every shadowed
request); flipped requests are the records agents uploaded with `shadow_flip`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Sum
from django.db.models.functions import TruncHour

from moderation.analysis import plots
from moderation.analysis.agreement import consensus_action
from moderation.analysis.shadow import FlipMatrix, Share, candidate_precision
from moderation.models import DecisionRecord, ReviewLabel, ShadowCount
from tenants.scoping import scoped

TOP_RULES = 10
FLIPPED_SHOWN = 50


@dataclass
class RuleFlips:
    rule_id: str
    flips: int
    share: float  # of all flips


@dataclass
class Experiment:
    channel: object
    matrix: FlipMatrix
    top_rules: list[RuleFlips]
    chart: plots.LineChart | None
    flipped: list
    precision: Share


def _counts(channel):
    started = channel.shadow_started_at.replace(second=0, microsecond=0)
    return scoped(ShadowCount, channel.tenant).filter(
        policy_id=channel.policy_id,
        channel=channel.name,
        shadow_version_number=channel.shadow_version.number,
        minute__gte=started,
    )


def flip_matrix(channel) -> FlipMatrix:
    rows = (
        _counts(channel)
        .filter(rule_id="")
        .values("enforced_action", "shadow_action")
        .annotate(n=Sum("count"))
    )
    return FlipMatrix({(r["enforced_action"], r["shadow_action"]): r["n"] for r in rows})


def top_rules(channel, total_flips: int) -> list[RuleFlips]:
    rows = (
        _counts(channel)
        .exclude(rule_id="")
        .exclude(enforced_action=F("shadow_action"))
        .values("rule_id")
        .annotate(n=Sum("count"))
        .order_by("-n", "rule_id")[:TOP_RULES]
    )
    return [
        RuleFlips(r["rule_id"], r["n"], r["n"] / total_flips if total_flips else 0) for r in rows
    ]


def flips_per_hour(channel) -> plots.LineChart | None:
    rows = (
        _counts(channel)
        .filter(rule_id="")
        .annotate(hour=TruncHour("minute", tzinfo=dt.UTC))
        .values("hour", "enforced_action", "shadow_action")
        .annotate(n=Sum("count"))
    )
    flips: dict[dt.datetime, int] = {}
    shadowed: dict[dt.datetime, int] = {}
    for r in rows:
        shadowed[r["hour"]] = shadowed.get(r["hour"], 0) + r["n"]
        if r["enforced_action"] != r["shadow_action"]:
            flips[r["hour"]] = flips.get(r["hour"], 0) + r["n"]
    if not shadowed:
        return None
    first, last = min(shadowed), max(shadowed)
    hours = [
        first + dt.timedelta(hours=i)
        for i in range(int((last - first).total_seconds() // 3600) + 1)
    ]
    return plots.line_chart(
        [
            plots.Series("shadowed", [shadowed.get(h, 0) for h in hours], dashed=True),
            plots.Series("flips", [flips.get(h, 0) for h in hours]),
        ],
        labels=[h.strftime("%m-%d %H:%M") for h in hours],
        width=640,
        height=200,
    )


def flipped_records(channel):
    """The experiment's flipped requests that agents uploaded, newest first."""
    return (
        scoped(DecisionRecord, channel.tenant)
        .filter(
            policy_id=channel.policy_id,
            channel=channel.name,
            shadow_version=channel.shadow_version,
            decided_at__gte=channel.shadow_started_at,
        )
        .select_related("version", "shadow_version")
        .order_by("-decided_at", "-id")
    )


def labelled_precision(channel) -> Share:
    """The candidate's precision on flips reviewers labelled (consensus of their labels)."""
    labels: dict[int, list[str]] = {}
    for record_id, action in (
        scoped(ReviewLabel, channel.tenant)
        .filter(record__in=flipped_records(channel))
        .values_list("record_id", "action")
    ):
        labels.setdefault(record_id, []).append(action)
    decided = {
        pk: (action, shadow_action)
        for pk, action, shadow_action in flipped_records(channel)
        .filter(pk__in=labels)
        .values_list("pk", "action", "shadow_action")
    }
    return candidate_precision(
        (*decided[pk], consensus_action(given)) for pk, given in labels.items()
    )


def experiment(channel) -> Experiment | None:
    """The running experiment of `channel`, or None when it shadows nothing."""
    if channel.shadow_version is None or channel.shadow_started_at is None:
        return None
    matrix = flip_matrix(channel)
    return Experiment(
        channel=channel,
        matrix=matrix,
        top_rules=top_rules(channel, matrix.flips.k),
        chart=flips_per_hour(channel),
        flipped=list(flipped_records(channel)[:FLIPPED_SHOWN]),
        precision=labelled_precision(channel),
    )


def flipped_record(channel, pk: int) -> DecisionRecord:
    """One flipped request of the channel (any experiment); DoesNotExist otherwise."""
    return (
        scoped(DecisionRecord, channel.tenant)
        .filter(policy_id=channel.policy_id, channel=channel.name, shadow_version__isnull=False)
        .select_related("version", "shadow_version")
        .get(pk=pk)
    )
