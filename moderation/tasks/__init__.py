"""Celery tasks. Modules under moderation.tasks.gpu run on the `gpu` queue (policy_admin.celery)."""

from moderation import signals  # noqa: F401  worker start-up hooks
from moderation.tasks.gpu import run_execute
from moderation.tasks.system import ping

__all__ = ["ping", "run_execute"]
