"""Alert evaluators: each looks at what its rules watch and tells alert_observe what it saw.

`alerts_after_run` runs once a suite run has succeeded; `alerts_fleet_evaluate`
runs every minute from Celery beat (moderation.tasks.periodic) and judges the
rules that watch something live: fleet servers, the review backlog,
production precision, and drift of production scores. Neither ever raises
into its caller: a rule that cannot be evaluated is logged and skipped.
"""

import datetime as dt
import logging

from django.db.models import Q
from django.utils import timezone

from moderation.analysis import metrics
from moderation.models import AlertRule
from moderation.selectors import production
from moderation.services.alert_drift import PRODUCTION, production_drift_evaluate
from moderation.services.alerts import alert_observe
from policy_admin.fleet.selectors import channel_state
from policy_admin.models import AuditEvent, Channel
from policy_admin.selectors.publishing import channel_rollout
from tenants.models import Tenant
from tenants.scoping import scoped

log = logging.getLogger(__name__)

# A metric_below rule's `outcome` is one of metrics.OUTCOMES, or this prefix and a category.
CATEGORY_PREFIX = "category:"


def alerts_after_run(run) -> None:
    """Evaluate the tenant's metric_below rules that watch this run's policy and sample set."""
    try:
        rules = list(
            scoped(AlertRule, run.tenant).filter(
                kind=AlertRule.Kind.METRIC_BELOW,
                enabled=True,
                policy=run.policy,
                sample_set=run.sample_set,
            )
        )
    except Exception:
        log.exception("alert rules after run %s could not be read", run.pk)
        return
    for rule in rules:
        try:
            _metric_below(rule, run)
        except Exception:
            log.exception("alert rule %s after run %s could not be evaluated", rule.pk, run.pk)


def outcome_metrics(result: dict, outcome: str) -> dict | None:
    """The binary metrics of `outcome` in a suite result; None when the run has none for it."""
    stored = (result or {}).get("metrics", {})
    if outcome.startswith(CATEGORY_PREFIX):
        return stored.get("categories", {}).get(outcome.removeprefix(CATEGORY_PREFIX))
    return stored.get("action", {}).get(outcome)


def outcome_label(outcome: str) -> str:
    if outcome.startswith(CATEGORY_PREFIX):
        return f"category {outcome.removeprefix(CATEGORY_PREFIX)}"
    return metrics.outcome_label(outcome) if outcome in metrics.OUTCOMES else outcome


def _metric_below(rule: AlertRule, run) -> None:
    params = rule.params
    found = outcome_metrics(run.result, params["outcome"])
    what = f"{params['metric']} ({outcome_label(params['outcome'])})"
    if found is None:
        log.info("run %s has no %s for alert rule %s; left as it is", run.pk, what, rule.pk)
        return
    value, floor = float(found[params["metric"]]), float(params["minimum"])
    firing = value < floor
    verdict = "below the floor" if firing else "at or above the floor"
    message = (
        f"Suite run #{run.pk} of policy “{run.policy.slug}” on sample set “{run.sample_set.name}”: "
        f"{what} is {value:.4f}, {verdict} {floor:.4f}."
    )
    alert_observe(rule=rule, firing=firing, message=message)


def alerts_fleet_evaluate(*, now: dt.datetime | None = None) -> int:
    """Evaluate every tenant's enabled fleet, review backlog and production precision rules;
    returns how many were evaluated."""
    now = now or timezone.now()
    evaluated = 0
    for tenant in Tenant.objects.order_by("pk"):
        rules = (
            scoped(AlertRule, tenant)
            .filter(Q(kind__in=PERIODIC) | Q(kind=AlertRule.Kind.DRIFT, params__against=PRODUCTION))
            .filter(enabled=True)
            .select_related("tenant", "policy")
        )
        for rule in rules:
            try:
                PERIODIC.get(rule.kind, production_drift_evaluate)(rule, now)
            except Exception:
                log.exception("%s alert rule %s could not be evaluated", rule.kind, rule.pk)
            else:
                evaluated += 1
    return evaluated


def fleet_problems(*, channel: Channel, minutes: int, now: dt.datetime) -> list[str]:
    """One sentence per server of the channel that is silent, or refuses its current bundle,
    for more than `minutes`.

    A server reports only its latest refusal, not since when; it refuses a version
    within one poll of the channel moving to it, so the time since that move
    stands for how long it has been refusing.
    """
    limit = dt.timedelta(minutes=minutes)
    target = channel.version.sha256 if channel.version_id else None
    moved_long_ago = now - channel.updated_at > limit
    problems = []
    for row in channel_rollout(channel=channel, now=now):
        silent = now - row.instance.last_seen
        if silent > limit:
            problems.append(
                f"{row.instance.instance_id} has not reported for {_minutes(silent)} min"
            )
        elif moved_long_ago and (
            channel_state(sha256=row.sha256, rejected=row.rejected, target=target) == "rejecting"
        ):
            problems.append(
                f"{row.instance.instance_id} refuses version {channel.version.number} "
                f"({row.rejected.get('reason')}), the channel's version for "
                f"{_minutes(now - channel.updated_at)} min"
            )
    return problems


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _fleet(rule: AlertRule, now: dt.datetime) -> None:
    params = rule.params
    where = f"“{rule.policy.slug}” channel “{params['channel']}”"
    channel = (
        scoped(Channel, rule.tenant)
        .select_related("policy", "version")
        .filter(policy=rule.policy, name=params["channel"])
        .first()
    )
    problems = (
        fleet_problems(channel=channel, minutes=int(params["minutes"]), now=now) if channel else []
    )
    if problems:
        message = f"Fleet servers of {where} need attention: " + "; ".join(problems) + "."
    else:
        message = (
            f"Every server reporting {where} has reported within {params['minutes']} min "
            "and none refuses its current bundle."
        )
    alert_observe(rule=rule, firing=bool(problems), message=message)


def _review_backlog(rule: AlertRule, now: dt.datetime) -> None:
    minutes = int(rule.params["minutes"])
    backlog = production.review_backlog(policy=rule.policy, now=now)
    waited = backlog.oldest_minutes
    where = f"Review of “{rule.policy.slug}”"
    if waited is not None and waited > minutes:
        message = (
            f"{where}: the oldest of {backlog.open_items} open item(s) has waited "
            f"{int(waited)} min, more than {minutes} min. Add reviewers or route fewer "
            "decisions to review."
        )
        alert_observe(rule=rule, firing=True, message=message)
        return
    message = f"{where}: no open item has waited more than {minutes} min."
    alert_observe(rule=rule, firing=False, message=message)


def _production_precision(rule: AlertRule, now: dt.datetime) -> None:
    params = rule.params
    outcome, floor = params["outcome"], float(params["minimum"])
    days, needed = int(params.get("days", 7)), int(params.get("min_labels", 30))
    found = production.audit_estimates(policy=rule.policy, since=now - dt.timedelta(days=days))[
        outcome
    ].precision
    what = f"production precision ({outcome_label(outcome)}) of “{rule.policy.slug}”"
    if found.value is None or found.n < needed:
        log.info("rule %s: %s labelled audit records, %s needed", rule.pk, found.n, needed)
        return
    firing = found.value < floor
    verdict = "below the floor" if firing else "at or above the floor"
    message = (
        f"The {what} over the last {days} days is {found.value:.4f} "
        f"(95% interval {found.low:.4f}–{found.high:.4f}, {found.n} audited decisions), "
        f"{verdict} {floor:.4f}."
    )
    alert_observe(rule=rule, firing=firing, message=message)


def _shadow_guard(rule: AlertRule, now: dt.datetime) -> None:
    hours = int(rule.params.get("hours", 24))
    stops = scoped(AuditEvent, rule.tenant).filter(
        policy=rule.policy,
        target_type="shadow",
        verb=AuditEvent.Verb.DELETE,
        after__stopped_by="guard",
        created_at__gte=now - dt.timedelta(hours=hours),
    )
    last = stops.order_by("-created_at").first()
    if last is not None:
        message = (
            f"A shadow of “{rule.policy.slug}” was stopped by its guard at "
            f"{last.created_at:%Y-%m-%d %H:%M} UTC: {last.summary}."
        )
        alert_observe(rule=rule, firing=True, message=message)
        return
    message = f"No guard stopped a shadow of “{rule.policy.slug}” in the last {hours} h."
    alert_observe(rule=rule, firing=False, message=message)


# The rules beat evaluates every minute, by kind.
PERIODIC = {
    AlertRule.Kind.FLEET: _fleet,
    AlertRule.Kind.REVIEW_BACKLOG: _review_backlog,
    AlertRule.Kind.PRODUCTION_PRECISION: _production_precision,
    AlertRule.Kind.SHADOW_GUARD: _shadow_guard,
}
