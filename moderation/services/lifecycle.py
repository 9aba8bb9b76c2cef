"""One lifecycle for every kind of test run: queue, claim, heartbeat, reap a silent one, fail.

Status moves only through `run_transition`. What differs between a live test
and a suite is data (`KINDS`), not code: the task that executes the run, its
time limits, its staleness limit, and what a silent worker means. A live test
is short and its author retries it, so a silent one fails with a reason; a
suite keeps every batch it stored, so a silent one is queued again and resumes
with the samples that have no result yet. A silent run is found when its page
or API is read (`run_reap`), when its acks_late task is redelivered
(`run_claim`), or by the periodic sweep (`stale_runs_reap`); the row lock lets
only one of them take it.
"""

import contextlib
import datetime as dt
import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from kernel.errors import ConflictError
from moderation.models import TestRun
from tenants.models import Tenant
from tenants.scoping import scoped

log = logging.getLogger(__name__)

Status = TestRun.Status
Kind = TestRun.Kind

# A queued run nobody picked up for this long means no worker consumes the queue.
UNCLAIMED_AFTER = dt.timedelta(seconds=5)

_LEGAL = {
    Status.PENDING: {Status.RUNNING, Status.FAILED, Status.CANCELLED},
    Status.RUNNING: {Status.SUCCEEDED, Status.FAILED, Status.PENDING, Status.CANCELLED},
    Status.FAILED: {Status.PENDING},
    Status.SUCCEEDED: set(),
    Status.CANCELLED: set(),
}


@dataclass(frozen=True)
class RunKind:
    """How runs of one kind are executed, and what becomes of one whose worker went silent.

    The messages are formatted with `run=` the run they are stored on.
    """

    label: str  # what logs call a run of this kind
    task: str  # dotted path (and Celery name) of the task that executes a run
    soft_time_limit: int  # seconds; the task then stores `too_long` as the run's failure
    time_limit: int  # seconds; the worker process is killed
    # A resumable run keeps what it stored: a silent one is queued again, not failed,
    # and a claim after an interruption keeps its first start time.
    resumable: bool
    # An exclusive run with a fresh heartbeat belongs to a live worker: a second
    # delivery of its task (the broker's visibility timeout is shorter than the
    # task) leaves it alone.
    exclusive: bool
    gave_up: str  # the failure once `max_attempts` claims were spent
    lost: str  # the failure of a silent run that is not resumable
    too_long: str
    max_attempts: int = 3
    stale_seconds_setting: str = "MODERATION_RUN_STALE_SECONDS"

    @property
    def stale_after(self) -> dt.timedelta:
        return dt.timedelta(seconds=getattr(settings, self.stale_seconds_setting))

    def silent(self, run: TestRun) -> bool:
        """True when the run's worker has not beaten for the staleness limit (or never)."""
        return run.heartbeat_at is None or timezone.now() - run.heartbeat_at >= self.stale_after


KINDS: dict[str, RunKind] = {
    Kind.LIVE: RunKind(
        label="live test run",
        task="moderation.tasks.gpu.run_execute",
        soft_time_limit=120,
        time_limit=180,
        resumable=False,
        exclusive=False,
        gave_up=(
            "The worker stopped {run.attempts} times while running this test; it was not "
            "retried again. Check the worker's log and memory, then retry."
        ),
        lost=(
            "The worker {run.worker} stopped answering while running this test (it crashed or "
            "was restarted). Retry it."
        ),
        too_long=(
            "The test took longer than the worker's time limit and was stopped. Try fewer or "
            "smaller images, or check that the worker has a GPU."
        ),
    ),
    Kind.SUITE: RunKind(
        label="suite run",
        task="moderation.tasks.gpu.suite_run_execute",
        soft_time_limit=3 * 3600,
        time_limit=3 * 3600 + 120,
        resumable=True,
        exclusive=True,
        gave_up=(
            "The worker stopped {run.attempts} times while running this suite; it was not "
            "resumed again ({run.progress_done} of {run.progress_total} samples have results). "
            "Check the worker's log and memory."
        ),
        lost="",  # resumable: a silent suite is queued again
        too_long=(
            "The suite took longer than the worker's time limit and was stopped; the samples "
            "judged so far are kept. Split the sample set, or run the worker on a GPU."
        ),
    ),
}


def run_transition(run: TestRun, to: str, **fields) -> TestRun:
    """Move `run` to status `to`, saving `fields` with it; an illegal move raises ConflictError."""
    if to not in _LEGAL[Status(run.status)]:
        raise ConflictError(
            f"This test run is {run.get_status_display().lower()}; it cannot become "
            f"{Status(to).label.lower()}."
        )
    run.status = to
    for key, value in fields.items():
        setattr(run, key, value)
    run.save(update_fields=["status", *fields])
    return run


def run_enqueue(*, run: TestRun) -> None:
    """Send the task of the run's kind, with its id, once the current transaction commits."""
    # Imported when sent: the task modules import these services.
    task = import_string(KINDS[run.kind].task)
    run_id = run.pk
    transaction.on_commit(lambda: task.delay(run_id))


@transaction.atomic
def run_claim(*, run_id: int, kind: str, worker: str) -> TestRun | None:
    """Mark a queued run of `kind` running on `worker`; None when there is nothing to run.

    Nothing to run: the run is finished or gave up, or (an exclusive kind) a live
    worker has it. A redelivered task (its worker died) finds the run running: it
    claims it again, counting the attempt, and fails it once the attempts are spent.
    """
    spec = KINDS[kind]
    run = TestRun.objects.select_for_update().filter(pk=run_id, kind=kind).first()
    if run is None or not run.is_active:
        return None
    if run.status == Status.RUNNING and spec.exclusive and not spec.silent(run):
        return None
    now = timezone.now()
    if run.attempts >= spec.max_attempts:
        run_transition(run, Status.FAILED, finished_at=now, error=spec.gave_up.format(run=run))
        return None
    if run.status == Status.RUNNING:
        run_transition(run, Status.PENDING)
    return run_transition(
        run,
        Status.RUNNING,
        started_at=(run.started_at if spec.resumable else None) or now,
        heartbeat_at=now,
        worker=worker,
        attempts=run.attempts + 1,
        error="",
    )


@contextlib.contextmanager
def heartbeat(run: TestRun):
    """While the body runs, record every few seconds (settings) that the worker is alive."""
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(settings.MODERATION_RUN_HEARTBEAT_SECONDS):
                TestRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-run-{run.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run_fail(*, run: TestRun, reason: str) -> TestRun:
    """Mark an active run failed with a reason a person can act on; a finished one is kept."""
    run.refresh_from_db()
    if not run.is_active:
        return run
    return run_transition(run, Status.FAILED, error=reason, finished_at=timezone.now())


def run_reap(*, run: TestRun) -> TestRun:
    """Recover a running run whose worker went silent: queue it again, or fail it with a reason.

    Returns the run as stored afterwards; a run whose worker is alive comes back as it is.
    """
    spec = KINDS[run.kind]
    if run.status != Status.RUNNING or run.heartbeat_at is None or not spec.silent(run):
        return run
    with transaction.atomic():
        locked = TestRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != Status.RUNNING or not spec.silent(locked):
            return locked
        if spec.resumable:
            run_transition(locked, Status.PENDING)
            run_enqueue(run=locked)
            log.warning("%s %s lost worker %s; queued again", spec.label, locked.pk, locked.worker)
            return locked
        return run_transition(
            locked, Status.FAILED, finished_at=timezone.now(), error=spec.lost.format(run=locked)
        )


def stale_runs_reap(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Reap every silent run of every tenant (`run_reap`), so nobody has to open them first.

    Returns how many were failed and how many queued again.
    """
    now = now or timezone.now()
    counts = {"failed": 0, "requeued": 0}
    for tenant in Tenant.objects.order_by("pk"):
        for kind, spec in KINDS.items():
            silent = scoped(TestRun, tenant).filter(
                kind=kind, status=Status.RUNNING, heartbeat_at__lt=now - spec.stale_after
            )
            for run in silent.order_by("pk"):
                reaped = run_reap(run=run)
                if reaped.status == Status.FAILED:
                    counts["failed"] += 1
                elif reaped.status == Status.PENDING:
                    counts["requeued"] += 1
    if any(counts.values()):
        log.warning("stale runs swept: %s", counts)
    return counts


def run_unclaimed(run: TestRun) -> bool:
    """True when a queued run has waited long enough that no worker seems to be listening."""
    return run.status == Status.PENDING and timezone.now() - run.created_at > UNCLAIMED_AFTER
