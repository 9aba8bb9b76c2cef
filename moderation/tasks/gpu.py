"""Scoring tasks, routed to the `gpu` queue; they take ids and write through services."""

import logging
import socket

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from moderation.engine.errors import EngineError
from moderation.engine.images import ImageError
from moderation.engine.models.base import PinMismatch
from moderation.services import runs, suites
from policy_admin.errors import ApplicationError

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
    from moderation import scoring

    run = runs.run_claim(run_id=run_id, worker=WORKER)
    if run is None:
        return
    try:
        with runs.heartbeat(run):
            result = scoring.run_live_test(run)
    except (ApplicationError, EngineError, ImageError, PinMismatch) as error:
        runs.run_fail(run=run, reason=str(getattr(error, "message", error)))
        return
    except SoftTimeLimitExceeded:
        runs.run_fail(
            run=run,
            reason=(
                "The test took longer than the worker's time limit and was stopped. Try fewer or "
                "smaller images, or check that the worker has a GPU."
            ),
        )
        return
    except Exception as error:
        log.exception("live test run %s failed", run_id)
        runs.run_fail(run=run, reason=f"The worker hit an unexpected error: {error!r}.")
        raise
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
    from moderation import scoring

    run = suites.suite_claim(run_id=run_id, worker=WORKER)
    if run is None:
        return
    try:
        with runs.heartbeat(run):
            bundle = scoring.run_suite(run, batch_size=settings.MODERATION_SUITE_BATCH_SIZE)
    except (ApplicationError, EngineError, ImageError, PinMismatch) as error:
        runs.run_fail(run=run, reason=str(getattr(error, "message", error)))
        return
    except SoftTimeLimitExceeded:
        runs.run_fail(
            run=run,
            reason=(
                "The suite took longer than the worker's time limit and was stopped; the samples "
                "judged so far are kept. Split the sample set, or run the worker on a GPU."
            ),
        )
        return
    except Exception as error:
        log.exception("suite run %s failed", run_id)
        runs.run_fail(run=run, reason=f"The worker hit an unexpected error: {error!r}.")
        raise
    if bundle is not None:
        suites.suite_finish(run=run, bundle=bundle)
