"""Celery tasks. Modules under moderation.tasks.gpu run on the `gpu` queue (policy_admin.celery)."""

from moderation.tasks.system import ping

__all__ = ["ping"]
