"""Scoring tasks, routed to the `gpu` queue; they take ids and write through services.

Each kind of run's limits and messages are data in moderation.services.lifecycle.
"""

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
from moderation.models import TestRun
from moderation.services import classifiers as classifiers_service
from moderation.services import lifecycle, runs, suites

log = logging.getLogger(__name__)

WORKER = f"{socket.gethostname()}"
LIVE = lifecycle.KINDS[TestRun.Kind.LIVE]
SUITE = lifecycle.KINDS[TestRun.Kind.SUITE]


@shared_task(
    name=LIVE.task,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    max_retries=3,
    soft_time_limit=LIVE.soft_time_limit,
    time_limit=LIVE.time_limit,
)
def run_execute(run_id: int) -> None:
    """Evaluate a live test run and store its result, or its failure with a reason."""
    from moderation.services import scoring

    run = lifecycle.run_claim(run_id=run_id, kind=TestRun.Kind.LIVE, worker=WORKER)
    if run is None:
        return
    result = _judged(run, lambda: scoring.run_live_test(run))
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
    name=SUITE.task,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    max_retries=3,
    soft_time_limit=SUITE.soft_time_limit,
    time_limit=SUITE.time_limit,
)
def suite_run_execute(run_id: int) -> None:
    """Evaluate a suite run's remaining samples; a redelivered task resumes where it stopped."""
    from moderation.services import scoring

    run = lifecycle.run_claim(run_id=run_id, kind=TestRun.Kind.SUITE, worker=WORKER)
    if run is None:
        return
    bundle = _judged(
        run, lambda: scoring.run_suite(run, batch_size=settings.MODERATION_SUITE_BATCH_SIZE)
    )
    if bundle is not FAILED and bundle is not None:  # None: cancelled meanwhile
        suites.suite_finish(run=run, bundle=bundle)


TRAINING_SOFT_LIMIT = classifiers_service.TIME_LIMIT - 120


@shared_task(
    name=classifiers_service.TASK,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    max_retries=3,
    soft_time_limit=TRAINING_SOFT_LIMIT,
    time_limit=classifiers_service.TIME_LIMIT,
)
def training_execute(run_id: int) -> None:
    """Train a classifier; a failure leaves the run failed with its reason and no version."""
    from kernel.registry import models

    run = classifiers_service.training_claim(run_id=run_id)
    if run is None:
        return
    try:
        classifiers_service.training_execute(run=run, models=models())
    except (ApplicationError, EngineError, ImageError, PinMismatch) as error:
        classifiers_service.training_fail(run=run, reason=str(getattr(error, "message", error)))
    except SoftTimeLimitExceeded:
        classifiers_service.training_fail(
            run=run,
            reason="The training took longer than the worker's time limit and was stopped; "
            "no version was stored. Train on fewer samples, or run the worker on a GPU.",
        )
    except Exception as error:
        log.exception("training %s failed", run_id)
        classifiers_service.training_fail(
            run=run, reason=f"The worker hit an unexpected error: {error!r}. No version was stored."
        )
        raise


FAILED = object()  # what _judged returns when it stored the run's failure


def _judged(run, work):
    """`work()` under the run's heartbeat; a failure is stored on the run with a reason.

    Returns work's result, or FAILED. An unexpected error is stored, logged and
    raised again, so Celery records the task as failed too.
    """
    spec = lifecycle.KINDS[run.kind]
    try:
        with lifecycle.heartbeat(run):
            return work()
    except (ApplicationError, EngineError, ImageError, PinMismatch) as error:
        lifecycle.run_fail(run=run, reason=str(getattr(error, "message", error)))
    except SoftTimeLimitExceeded:
        lifecycle.run_fail(run=run, reason=spec.too_long)
    except Exception as error:
        log.exception("%s %s failed", spec.label, run.pk)
        lifecycle.run_fail(run=run, reason=f"The worker hit an unexpected error: {error!r}.")
        raise
    return FAILED
