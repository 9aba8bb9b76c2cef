"""The Celery app: queues, routes and limits are declared here, in code."""

import os
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler
from celery.schedules import crontab
from kombu import Queue

from kernel.queues import GPU_TASK_PREFIX, QUEUE_DEFAULT, QUEUE_GPU

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")


# Sent by the single `celery beat` process (docs/operations.md). A send that no
# worker took within the minute expires, so a stopped worker finds no backlog;
# the nightly prune waits up to an hour.
BEAT_SCHEDULE = {
    "fleet-alerts": {
        "task": "moderation.tasks.periodic.fleet_alerts_evaluate",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "stale-runs-sweep": {
        "task": "moderation.tasks.periodic.stale_runs_sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "review-leases-sweep": {
        "task": "moderation.tasks.periodic.review_leases_sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Nightly, at a quiet hour: it deletes in chunks, but still writes a lot.
    "decision-records-prune": {
        "task": "moderation.tasks.periodic.decision_records_prune",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 3600},
    },
}


class BeatScheduler(PersistentScheduler):
    """Celery's file-backed scheduler, which first creates its file's folder (a fresh data dir)."""

    def setup_schedule(self):
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()


class GpuTaskAnnotations:
    """GPU tasks acknowledge late: a worker that dies mid-task leaves it for another."""

    def annotate(self, task):
        if task.name.startswith(GPU_TASK_PREFIX):
            return {"acks_late": True, "reject_on_worker_lost": True}
        return None


app.conf.update(
    task_queues=(Queue(QUEUE_DEFAULT), Queue(QUEUE_GPU)),
    task_default_queue=QUEUE_DEFAULT,
    # Scoring work needs the models, which live on GPU workers.
    task_routes={f"{GPU_TASK_PREFIX}*": {"queue": QUEUE_GPU}},
    task_annotations=(GpuTaskAnnotations(),),
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    task_time_limit=30 * 60,
    task_soft_time_limit=25 * 60,
    # One task at a time per process: GPU tasks are long and memory-heavy, and
    # a prefetched task would wait behind them instead of going to a free worker.
    worker_prefetch_multiplier=1,
    task_track_started=True,
    broker_connection_retry_on_startup=True,
    beat_schedule=BEAT_SCHEDULE,
    beat_scheduler="config.celery:BeatScheduler",
)
app.autodiscover_tasks()
