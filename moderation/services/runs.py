"""Live test runs: start, execute on a worker, retry, re-run; status moves through one function."""

import contextlib
import datetime as dt
import hashlib
import logging
import threading

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from kernel.errors import ApplicationError, ConflictError
from kernel.uploads import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, ImageUpload
from moderation.engine.images import ImageError, load_image
from moderation.models import TestRun, TestRunImage

log = logging.getLogger(__name__)

Status = TestRun.Status
MAX_PROMPT_CHARS = 20_000
MAX_LIVE_IMAGES = 8
MAX_ATTEMPTS = 3
# A queued run nobody picked up for this long means no worker consumes the queue.
UNCLAIMED_AFTER = dt.timedelta(seconds=5)

_LEGAL = {
    Status.PENDING: {Status.RUNNING, Status.FAILED, Status.CANCELLED},
    Status.RUNNING: {Status.SUCCEEDED, Status.FAILED, Status.PENDING, Status.CANCELLED},
    Status.FAILED: {Status.PENDING},
    Status.SUCCEEDED: set(),
    Status.CANCELLED: set(),
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


def run_target(*, policy, version=None) -> dict:
    """The TestRun fields naming what a run judges: the draft, or one of the policy's versions.

    A version of another policy is refused: its bundle would judge with other rules
    than the run's policy shows.
    """
    if version is None:
        return {"policy_revision": policy.revision, "version_number": None}
    if version.policy_id != policy.pk or version.tenant_id != policy.tenant_id:
        raise ApplicationError(
            f"v{version.number} is a version of another policy, not of {policy.name}. "
            f"Choose the draft or one of {policy.name}'s versions."
        )
    return {"policy_revision": version.revision, "version_number": version.number}


@transaction.atomic
def live_test_start(
    *, policy, actor, prompt: str = "", uploads: list[ImageUpload] = (), version=None
) -> TestRun:
    """Store a live test of the policy's draft (or `version`) with its checked inputs; queue it."""
    prompt = prompt.strip()
    target = run_target(policy=policy, version=version)
    sizes = _check_inputs(prompt, uploads)
    run = TestRun.objects.create(
        tenant=policy.tenant,
        policy=policy,
        kind=TestRun.Kind.LIVE,
        prompt=prompt,
        created_by=actor,
        **target,
    )
    for position, (upload, size) in enumerate(zip(uploads, sizes, strict=True)):
        _store_image(run, upload, size, position)
    _enqueue(run)
    return run


def _check_inputs(prompt: str, uploads) -> list[tuple[int, int]]:
    """Refuse unusable inputs with a reason; return each image's (width, height)."""
    if not prompt and not uploads:
        raise ApplicationError("Type a prompt, upload an image, or both.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ApplicationError(
            f"The prompt is {len(prompt):,} characters; a live test takes at most "
            f"{MAX_PROMPT_CHARS:,}. Use a test suite for longer inputs."
        )
    if len(uploads) > MAX_LIVE_IMAGES:
        raise ApplicationError(
            f"{len(uploads)} images at once; a live test takes at most {MAX_LIVE_IMAGES}."
        )
    sizes = []
    for upload in uploads:
        try:
            image = load_image(
                upload.data,
                max_pixels=MAX_IMAGE_PIXELS,
                max_bytes=MAX_IMAGE_BYTES,
                name=upload.name,
            )
        except ImageError as error:
            raise ApplicationError(
                f"{error} Nothing was run.", extra={"file": upload.name}
            ) from None
        sizes.append(image.size)
    return sizes


def _store_image(run: TestRun, upload: ImageUpload, size, position: int) -> TestRunImage:
    image = TestRunImage(
        tenant=run.tenant,
        run=run,
        position=position,
        original_name=upload.name[:255],
        sha256=hashlib.sha256(upload.data).hexdigest(),
    )
    image.image.save(upload.name, ContentFile(upload.data), save=False)
    # Saving the file re-reads dimensions from the spent buffer; the decoded size is known.
    image.width, image.height = size
    image.save()
    return image


def _enqueue(run: TestRun) -> None:
    from moderation.tasks.gpu import run_execute

    run_id = run.pk
    transaction.on_commit(lambda: run_execute.delay(run_id))


@transaction.atomic
def run_claim(*, run_id: int, worker: str) -> TestRun | None:
    """Mark a queued run as running on `worker`; None when it is already finished or gave up.

    A redelivered task (its worker died) finds the run running: it claims it
    again, counting the attempt, and fails it once MAX_ATTEMPTS are spent.
    """
    run = TestRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None or not run.is_active:
        return None
    now = timezone.now()
    if run.attempts >= MAX_ATTEMPTS:
        run_transition(
            run,
            Status.FAILED,
            finished_at=now,
            error=(
                f"The worker stopped {run.attempts} times while running this test; it was not "
                "retried again. Check the worker's log and memory, then retry."
            ),
        )
        return None
    if run.status == Status.RUNNING:
        run_transition(run, Status.PENDING)
    return run_transition(
        run,
        Status.RUNNING,
        started_at=now,
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


def run_finish(*, run: TestRun, result: dict, bundle_sha256: str, revision: int) -> TestRun:
    """Store the result of a run and mark it finished."""
    return run_transition(
        run,
        Status.SUCCEEDED,
        result=result,
        bundle_sha256=bundle_sha256,
        policy_revision=revision,
        finished_at=timezone.now(),
    )


def run_fail(*, run: TestRun, reason: str) -> TestRun:
    """Mark a run failed with a reason a person can act on."""
    run.refresh_from_db()
    if not run.is_active:
        return run
    return run_transition(run, Status.FAILED, error=reason, finished_at=timezone.now())


def run_reap(run: TestRun) -> TestRun:
    """Fail a running run whose worker went silent; called whenever a run's state is read."""
    if run.status != Status.RUNNING or run.heartbeat_at is None:
        return run
    stale_after = dt.timedelta(seconds=settings.MODERATION_RUN_STALE_SECONDS)
    if timezone.now() - run.heartbeat_at < stale_after:
        return run
    with transaction.atomic():
        locked = TestRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == Status.RUNNING and timezone.now() - locked.heartbeat_at >= stale_after:
            run_transition(
                locked,
                Status.FAILED,
                finished_at=timezone.now(),
                error=(
                    f"The worker {locked.worker or ''} stopped answering while running this test "
                    "(it crashed or was restarted). Retry it."
                ),
            )
        return locked


@transaction.atomic
def run_retry(*, run: TestRun, actor) -> TestRun:
    """Queue a failed run again, with the same inputs."""
    run = TestRun.objects.select_for_update().get(pk=run.pk)
    run_transition(run, Status.PENDING, attempts=0, error="", finished_at=None)
    _enqueue(run)
    return run


@transaction.atomic
def run_rerun(*, run: TestRun, actor) -> TestRun:
    """A new live test of the current draft with the inputs of `run`, to see what changed."""
    policy = run.policy
    again = TestRun.objects.create(
        tenant=run.tenant,
        policy=policy,
        kind=run.kind,
        prompt=run.prompt,
        policy_revision=policy.revision,
        created_by=actor,
        rerun_of=run,
    )
    for image in run.images.all():
        TestRunImage.objects.create(
            tenant=run.tenant,
            run=again,
            image=image.image.name,
            sha256=image.sha256,
            original_name=image.original_name,
            width=image.width,
            height=image.height,
            position=image.position,
        )
    _enqueue(again)
    return again


def run_unclaimed(run: TestRun) -> bool:
    """True when a queued run has waited long enough that no worker seems to be listening."""
    return run.status == Status.PENDING and timezone.now() - run.created_at > UNCLAIMED_AFTER
