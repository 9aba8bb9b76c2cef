"""The project package and the policy-authoring app."""

from policy_admin.celery import app as celery_app

__all__ = ["celery_app"]
