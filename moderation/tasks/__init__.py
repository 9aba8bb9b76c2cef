"""Celery tasks. Modules under moderation.tasks.gpu run on the `gpu` queue (config.celery)."""

from moderation import signals  # noqa: F401  worker start-up hooks
from moderation.tasks.alerts import alert_deliver
from moderation.tasks.gpu import run_execute
from moderation.tasks.periodic import fleet_alerts_evaluate, stale_runs_sweep
from moderation.tasks.robustness import keyword_robustness_run
from moderation.tasks.system import ping

__all__ = [
    "alert_deliver",
    "fleet_alerts_evaluate",
    "keyword_robustness_run",
    "ping",
    "run_execute",
    "stale_runs_sweep",
]
