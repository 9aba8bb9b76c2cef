"""Running a live test or a suite through the engine with the process's models."""

import time

from kernel import telemetry
from kernel.errors import ApplicationError
from kernel.registry import compiled, models
from moderation.engine.evaluate import evaluate_batch
from moderation.engine.images import load_image
from moderation.engine.inputs import Item
from moderation.services.classifier_neighbours import nearest_samples
from policy_admin.bundles.builder import BuildResult, bundle_build
from policy_admin.bundles.stored import version_bundle
from policy_admin.selectors.publishing import version_get


def run_bundle(run, registry):
    """The bundle a run judges with: its draft built now, or its version's stored bytes."""
    if run.version_number is None:
        return bundle_build(policy=run.policy, models=registry)
    return BuildResult(
        bundle=version_bundle(version_get(policy=run.policy, number=run.version_number))
    )


def run_live_test(run) -> dict:
    """Build the run's draft (or load its version), evaluate its inputs, return the result."""
    registry = models()
    started = time.perf_counter()
    built = run_bundle(run, registry)
    build_ms = (time.perf_counter() - started) * 1000
    images = list(run.images.all())
    items = [Item(run.prompt or None, _open(i)) for i in images] or [Item(run.prompt, None)]
    decisions = [
        d.as_dict() for d in evaluate_split_on_oom(compiled(built.bundle), items, registry)
    ]
    device = registry.device_info()
    telemetry.record_decisions(f"{run.tenant.slug}/{run.policy.slug}", decisions, device["device"])
    inputs = [
        (run.prompt, i.sha256 if i else "", item.image)
        for i, item in zip(images or [None], items, strict=True)
    ]
    return {
        "bundle": {
            "sha256": built.bundle.sha256,
            "revision": built.bundle.policy.revision,
            "version": built.bundle.policy.version,
            "pins": {name: pin.as_dict() for name, pin in built.bundle.pins.items()},
            "build_ms": round(build_ms, 1),
        },
        "warnings": built.warnings,
        "inputs": [
            {"prompt": run.prompt, "image": i.original_name if i else None}
            for i in (images or [None])
        ],
        "decisions": decisions,
        "device": device,
        "neighbours": nearest_samples(
            tenant=run.tenant, decisions=decisions, inputs=inputs, registry=registry
        ),
    }


def evaluate_split_on_oom(bundle, items: list, registry) -> list:
    """Evaluate a batch; when the GPU runs out of memory, halve the batch and try again."""
    import torch

    try:
        return evaluate_batch(bundle, items, models=registry)
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        if len(items) == 1:
            raise ApplicationError(
                "The GPU ran out of memory on a single input. Use a smaller image, or run the "
                "worker on a GPU with more memory (or on the CPU)."
            ) from None
        half = len(items) // 2
        return [
            *evaluate_split_on_oom(bundle, items[:half], registry),
            *evaluate_split_on_oom(bundle, items[half:], registry),
        ]


def _open(image):
    with image.image.open("rb") as handle:
        return load_image(handle.read(), name=image.original_name)


def run_suite(run, *, batch_size: int) -> dict | None:
    """Evaluate the samples of a suite run that have no result yet, one stored batch at a time.

    Returns the bundle summary once every sample has a result, None when the run
    was cancelled meanwhile. A resumed run must evaluate the same bundle it
    started with, so its results never mix two policies.
    """
    from moderation.models import TestRun
    from moderation.services import suites

    registry = models()
    bundle = run_bundle(run, registry).bundle
    if run.bundle_sha256 and run.bundle_sha256 != bundle.sha256:
        raise ApplicationError(
            "The policy's draft changed while this suite was interrupted, so the remaining "
            "samples would be judged by another policy. Start a new suite on the current draft."
        )
    TestRun.objects.filter(pk=run.pk).update(bundle_sha256=bundle.sha256)
    fast = compiled(bundle)
    while suites.suite_still_running(run):
        batch = suites.suite_pending(run, batch_size)
        if not batch:
            return {"sha256": bundle.sha256, "revision": bundle.policy.revision}
        items = [_sample_item(sample) for sample in batch]
        decisions = evaluate_split_on_oom(fast, items, registry)
        suites.suite_store_batch(run=run, samples=batch, decisions=decisions)
    return None


def _sample_item(sample) -> Item:
    image = None
    if sample.image:
        try:
            with sample.image.open("rb") as handle:
                image = load_image(handle.read(), name=sample.external_id)
        except (OSError, ValueError) as error:
            raise ApplicationError(
                f"The image of sample {sample.external_id} can no longer be read ({error})."
            ) from None
    return Item(sample.prompt or None, image)
