"""Live test runs: start with checked inputs, store the result, retry, re-run.

Queueing, claiming and failing go through moderation.services.lifecycle, like every run.
"""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from kernel.errors import ApplicationError
from kernel.uploads import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, ImageUpload
from moderation.engine.images import ImageError, load_image
from moderation.models import TestRun, TestRunImage
from moderation.services import lifecycle

Status = TestRun.Status
MAX_PROMPT_CHARS = 20_000
MAX_LIVE_IMAGES = 8


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
    lifecycle.run_enqueue(run=run)
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


def run_finish(*, run: TestRun, result: dict, bundle_sha256: str, revision: int) -> TestRun:
    """Store the result of a run and mark it finished."""
    return lifecycle.run_transition(
        run,
        Status.SUCCEEDED,
        result=result,
        bundle_sha256=bundle_sha256,
        policy_revision=revision,
        finished_at=timezone.now(),
    )


@transaction.atomic
def run_retry(*, run: TestRun, actor) -> TestRun:
    """Queue a failed run again, with the same inputs."""
    run = TestRun.objects.select_for_update().get(pk=run.pk)
    lifecycle.run_transition(run, Status.PENDING, attempts=0, error="", finished_at=None)
    lifecycle.run_enqueue(run=run)
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
    lifecycle.run_enqueue(run=again)
    return again
