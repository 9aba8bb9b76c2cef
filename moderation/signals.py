"""Worker and beat hooks: load models once per process, report readiness, time every task."""

import logging
import os
import time

from celery.signals import (
    beat_init,
    task_failure,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
)

from kernel import probe, telemetry

log = logging.getLogger(__name__)


@worker_init.connect
def _start_probes(**kwargs) -> None:
    probe.clear()
    probe.start_heartbeat()
    port = os.environ.get("MODERATION_WORKER_METRICS_PORT")
    if port:
        telemetry.serve_worker_metrics(int(port))


@beat_init.connect
def _start_beat_probe(**kwargs) -> None:
    # Its own file: a beat embedded in a worker (-B) must not touch the worker's.
    probe.start_heartbeat("beat")


@worker_process_init.connect
def _load_models(**kwargs) -> None:
    if os.environ.get("MODERATION_WARM_UP", "1") != "0":
        from kernel import registry

        seconds = registry.models().warm_up()
        log.info("models loaded: %s", ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items()))
    probe.mark("ready")


_started: dict[str, float] = {}


@task_prerun.connect
def _task_started(task_id=None, task=None, **kwargs) -> None:
    _started[task_id] = time.monotonic()


@task_postrun.connect
def _task_finished(task_id=None, task=None, **kwargs) -> None:
    started = _started.pop(task_id, None)
    if started is not None:
        telemetry.TASK_DURATION.labels(task=task.name).observe(time.monotonic() - started)


@task_failure.connect
def _task_failed(sender=None, **kwargs) -> None:
    telemetry.TASK_FAILURES.labels(task=sender.name).inc()
