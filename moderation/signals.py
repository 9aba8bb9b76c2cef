"""Worker start-up: load the models once per worker process, before the first task."""

import logging
import os

from celery.signals import worker_process_init

log = logging.getLogger(__name__)


@worker_process_init.connect
def _load_models(**kwargs) -> None:
    if os.environ.get("MODERATION_WARM_UP", "1") == "0":
        return
    from moderation import scoring

    seconds = scoring.models().warm_up()
    log.info("models loaded: %s", ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items()))
