"""Scoring tasks, routed to the `gpu` queue; they take ids and write through services."""

import logging
import socket

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from kernel.errors import ApplicationError
from moderation.engine.errors import EngineError
from moderation.engine.images import ImageError
from moderation.engine.models.base import PinMismatch
from moderation.services import runs, suites

log = logging.getLogger(__name__)

WORKER = f"{socket.gethostname()}"


@shared_task(
    name="moderation.tasks.gpu.run_execute",
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    max_retries=3,
    soft_time_limit=120,
    time_limit=180,
)
def run_execute(run_id: int) -> None:
    """Evaluate a live test run and store its result, or its failure with a reason."""
    from moderation.services import scoring

    run = runs.run_claim(run_id=run_id, worker=WORKER)
    if run is None:
        return
    result = _judged(
        run,
        lambda: scoring.run_live_test(run),
        what="live test run",
        too_long=(
            "The test took longer than the worker's time limit and was stopped. Try fewer or "
            "smaller images, or check that the worker has a GPU."
        ),
    )
    if result is FAILED:
        return
    runs.run_finish(
        run=run,
        result=result,
        bundle_sha256=result["bundle"]["sha256"],
        revision=result["bundle"]["revision"],
    )
    log.info(
        "live test run %s of %s/%s finished: %s",
        run_id,
        run.tenant.slug,
        run.policy.slug,
        ", ".join(d["action"] for d in result["decisions"]),
    )


@shared_task(
    name="moderation.tasks.gpu.suite_run_execute",
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    max_retries=3,
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 120,
)
def suite_run_execute(run_id: int) -> None:
    """Evaluate a suite run's remaining samples; a redelivered task resumes where it stopped."""
    from moderation.services import scoring

    run = suites.suite_claim(run_id=run_id, worker=WORKER)
    if run is None:
        return
    bundle = _judged(
        run,
        lambda: scoring.run_suite(run, batch_size=settings.MODERATION_SUITE_BATCH_SIZE),
        what="suite run",
        too_long=(
            "The suite took longer than the worker's time limit and was stopped; the samples "
            "judged so far are kept. Split the sample set, or run the worker on a GPU."
        ),
    )
    if bundle is not FAILED and bundle is not None:  # None: cancelled meanwhile
        suites.suite_finish(run=run, bundle=bundle)


FAILED = object()  # what _judged returns when it stored the run's failure


def _judged(run, work, *, what: str, too_long: str):
    """`work()` under the run's heartbeat; a failure is stored on the run with a reason.

    Returns work's result, or FAILED. An unexpected error is stored, logged and
    raised again, so Celery records the task as failed too.
    """
    try:
        with runs.heartbeat(run):
            return work()
    except (ApplicationError, EngineError, ImageError, PinMismatch) as error:
        runs.run_fail(run=run, reason=str(getattr(error, "message", error)))
    except SoftTimeLimitExceeded:
        runs.run_fail(run=run, reason=too_long)
    except Exception as error:
        log.exception("%s %s failed", what, run.pk)
        runs.run_fail(run=run, reason=f"The worker hit an unexpected error: {error!r}.")
        raise
    return FAILED
