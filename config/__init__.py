"""The project wiring: settings, URLs, the Celery app, WSGI, health and metrics."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
