"""Drift alert rules: a suite against an earlier suite, evaluated when a suite run of their
policy finishes; or production's audited scores against a suite, evaluated every minute."""

import datetime as dt
import logging

from moderation.analysis.drift import PSI_ALERT
from moderation.models import AlertRule, TestRun
from moderation.selectors import production, quality
from moderation.services import alerts as services
from tenants.scoping import scoped

log = logging.getLogger(__name__)

PREVIOUS = "previous"
PRODUCTION = "production"
# How much production a rule compares: the audited decisions of the last day.
PRODUCTION_WINDOW = dt.timedelta(days=1)


def against_production(rule: AlertRule) -> bool:
    return rule.params.get("against") == PRODUCTION


def drift_alerts_after_run(run: TestRun) -> None:
    """Observe every enabled drift rule of the run's policy: firing when a score's PSI passes it.

    A rule's baseline is the policy's suite before this one ("previous", the
    default) or a fixed suite run id; without a baseline there is nothing to
    compare, and the rule keeps its state. Like alerts_after_run, it never
    raises: a rule that cannot be evaluated is logged and the others go on.
    """
    if run.kind != TestRun.Kind.SUITE or run.status != TestRun.Status.SUCCEEDED:
        return
    try:
        rules = list(
            scoped(AlertRule, run.tenant).filter(
                kind=AlertRule.Kind.DRIFT, enabled=True, policy=run.policy
            )
        )
    except Exception:
        log.exception("drift alert rules after suite run %s could not be read", run.pk)
        return
    for rule in rules:
        if against_production(rule):
            continue
        try:
            _observe(rule, run)
        except Exception:
            log.exception(
                "drift rule %s after suite run %s could not be evaluated", rule.pk, run.pk
            )


def _observe(rule: AlertRule, run: TestRun) -> None:
    baseline = _baseline(rule, run)
    if baseline is None:
        log.info("drift rule %s: no baseline for suite run %s", rule.pk, run.pk)
        return
    threshold = float(rule.params.get("psi", PSI_ALERT))
    drifted = [d for d in quality.runs_drift(baseline, run, psi_alert=threshold) if d.drift.flagged]
    services.alert_observe(
        rule=rule, firing=bool(drifted), message=_message(run, baseline, threshold, drifted)
    )


def _baseline(rule: AlertRule, run: TestRun) -> TestRun | None:
    wanted = str(rule.params.get("baseline") or PREVIOUS)
    if wanted == PREVIOUS:
        return quality.previous_suite(run)
    baseline = quality.finished_suites(policy=run.policy).filter(pk=int(wanted)).first()
    return None if baseline == run else baseline


def _message(run: TestRun, baseline: TestRun, threshold: float, drifted: list) -> str:
    where = f"{run.policy.name}: suite #{run.pk} against suite #{baseline.pk}"
    if not drifted:
        return f"{where}: no category or concept score drifted past PSI {threshold}."
    scores = ", ".join(f"{d.name} (PSI {d.drift.psi:.3f})" for d in drifted)
    return f"{where}: {len(drifted)} score(s) drifted past PSI {threshold}: {scores}."


def production_drift_evaluate(rule: AlertRule, now: dt.datetime) -> None:
    """Observe a production drift rule: firing when an audited score's PSI against the
    baseline suite (the newest, for "previous") passes the rule's threshold."""
    wanted = str(rule.params.get("baseline") or PREVIOUS)
    suites = quality.finished_suites(policy=rule.policy)
    baseline = suites.first() if wanted == PREVIOUS else suites.filter(pk=int(wanted)).first()
    if baseline is None:
        log.info("production drift rule %s: no finished suite to compare with", rule.pk)
        return
    threshold = float(rule.params.get("psi", PSI_ALERT))
    rows = production.production_drift(
        baseline=baseline, since=now - PRODUCTION_WINDOW, psi_alert=threshold
    )
    if not rows:
        log.info("production drift rule %s: no audited score to compare", rule.pk)
        return
    drifted = [d for d in rows if d.drift.flagged]
    where = f"{rule.policy.name}: production (audited, last day) against suite #{baseline.pk}"
    if drifted:
        scores = ", ".join(f"{d.name} (PSI {d.drift.psi:.3f})" for d in drifted)
        message = f"{where}: {len(drifted)} score(s) drifted past PSI {threshold}: {scores}."
    else:
        message = f"{where}: no category or concept score drifted past PSI {threshold}."
    services.alert_observe(rule=rule, firing=bool(drifted), message=message)
