"""Worker start-up: load the models once per worker process, then say the worker is ready."""

import logging
import os

from celery.signals import worker_init, worker_process_init

from moderation import probe

log = logging.getLogger(__name__)


@worker_init.connect
def _start_probes(**kwargs) -> None:
    probe.clear()
    probe.start_heartbeat()


@worker_process_init.connect
def _load_models(**kwargs) -> None:
    if os.environ.get("MODERATION_WARM_UP", "1") != "0":
        from moderation import scoring

        seconds = scoring.models().warm_up()
        log.info("models loaded: %s", ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items()))
    probe.mark("ready")
