"""Tasks Celery beat sends every minute, or nightly (config.celery); on the `default` queue."""

from celery import shared_task

from moderation.services.alert_evaluators import alerts_fleet_evaluate
from moderation.services.lifecycle import stale_runs_reap
from moderation.services.retention import decision_records_prune
from moderation.services.review import review_leases_sweep as leases_sweep


@shared_task(name="moderation.tasks.periodic.fleet_alerts_evaluate", ignore_result=True)
def fleet_alerts_evaluate() -> int:
    """Evaluate every tenant's fleet alert rules."""
    return alerts_fleet_evaluate()


@shared_task(name="moderation.tasks.periodic.stale_runs_sweep", ignore_result=True)
def stale_runs_sweep() -> dict:
    """Fail live tests and resume suites whose worker stopped answering."""
    return stale_runs_reap()


@shared_task(name="moderation.tasks.periodic.review_leases_sweep", ignore_result=True)
def review_leases_sweep() -> int:
    """Give back to their queues the review items whose claim lease expired."""
    return leases_sweep()


@shared_task(name="moderation.tasks.periodic.decision_records_prune", ignore_result=True)
def decision_records_prune_nightly() -> dict:
    """Delete raw decision records older than their tenant's retention period."""
    return decision_records_prune()
