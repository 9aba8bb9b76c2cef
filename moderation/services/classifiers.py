"""Training custom classifiers: select samples, gate their counts, queue, train, store a version.

A training reads a sample set of the classifier's tenant. Positives are the
samples the positives filter matches, negatives those the negatives filter
matches (a sample matching both is a positive). A filter matches a sample
when every key it names matches: `actions` holds its expected action,
`categories` shares one of its expected categories, `tags` one of its tags.
Features come from the pinned encoders through the vector cache; the maths
is moderation.analysis.classifier_training. The version is written in one
transaction at the end, so a training that fails anywhere leaves none.
"""

import hashlib
import logging
import time

import numpy as np
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from kernel.errors import ApplicationError, ConflictError
from kernel.vectors import image_vectors, text_vectors
from moderation.analysis import classifier_training
from moderation.engine.classifiers import feature_matrix
from moderation.engine.images import ImageError, load_image
from moderation.models import Sample, SampleSet, TrainingRun
from policy_admin.models import CustomClassifier
from policy_admin.services.classifiers import classifier_version_create

log = logging.getLogger(__name__)
Status = TrainingRun.Status

MIN_POSITIVES = 10
MIN_NEGATIVES = 10
# The image scorers whose outputs join the CLIP vector as features, when loaded.
FEATURE_SCORERS = ("nudenet", "opennsfw")
IMAGE_CHUNK = 32
TASK = "moderation.tasks.gpu.training_execute"
# The task's hard time limit (seconds): a training running longer than this has
# certainly lost its worker, so a redelivered task may start it again.
TIME_LIMIT = 2 * 3600 + 120

_LEGAL = {
    Status.QUEUED: {Status.RUNNING, Status.FAILED},
    Status.RUNNING: {Status.DONE, Status.FAILED, Status.QUEUED},
    Status.FAILED: {Status.QUEUED},
    Status.DONE: set(),
}


def training_transition(run: TrainingRun, to: str, **fields) -> TrainingRun:
    """Move `run` to status `to`, saving `fields` with it; an illegal move raises ConflictError."""
    if to not in _LEGAL[Status(run.status)]:
        raise ConflictError(
            f"This training is {run.get_status_display().lower()}; it cannot become "
            f"{Status(to).label.lower()}."
        )
    run.status = to
    for key, value in fields.items():
        setattr(run, key, value)
    run.save(update_fields=["status", *fields])
    return run


def sample_matches(sample: Sample, rule: dict) -> bool:
    """Whether every key the filter names matches the sample (see the module doc)."""
    if rule.get("actions") and sample.expected_action not in rule["actions"]:
        return False
    if rule.get("categories") and not set(rule["categories"]) & set(sample.expected_categories):
        return False
    return not (rule.get("tags") and not set(rule["tags"]) & set(sample.tags))


def training_samples(
    *, classifier: CustomClassifier, sample_set: SampleSet
) -> tuple[list[Sample], np.ndarray]:
    """The set's samples of the classifier's target that a filter matches, and their labels."""
    samples = sample_set.samples.order_by("pk")
    if classifier.target == CustomClassifier.Target.IMAGE:
        samples = samples.exclude(image="")
    else:
        samples = samples.exclude(prompt="")
    chosen, labels = [], []
    for sample in samples.only("pk", "prompt", "image", "image_sha256", "expected_action",
                               "expected_categories", "tags"):  # fmt: skip
        if sample_matches(sample, classifier.positives):
            chosen.append(sample)
            labels.append(True)
        elif sample_matches(sample, classifier.negatives):
            chosen.append(sample)
            labels.append(False)
    return chosen, np.array(labels, dtype=bool)


def training_gate(*, classifier: CustomClassifier, labels: np.ndarray, skipped: int = 0) -> None:
    """Refuse too few positives or negatives, saying how many more of each are needed."""
    positives, negatives = int(labels.sum()), int((~labels).sum())
    short = [
        f"{need - have} more {what}"
        for have, need, what in (
            (positives, MIN_POSITIVES, "positives"),
            (negatives, MIN_NEGATIVES, "negatives"),
        )
        if have < need
    ]
    if short:
        lost = f" ({skipped} images could not be loaded and were skipped)" if skipped else ""
        raise ApplicationError(
            f"Too few samples to train {classifier.name}: {positives} positives and {negatives} "
            f"negatives match its filters{lost}; it needs at least {MIN_POSITIVES} positives and "
            f"{MIN_NEGATIVES} negatives. Add {' and '.join(short)}, or widen the filters.",
            extra={"positives": positives, "negatives": negatives},
        )


@transaction.atomic
def training_start(*, classifier: CustomClassifier, sample_set: SampleSet, actor) -> TrainingRun:
    """Check the sample set and the counts, store a queued training and send its task."""
    if sample_set.tenant_id != classifier.tenant_id:
        raise Http404("No such sample set.")
    _, labels = training_samples(classifier=classifier, sample_set=sample_set)
    training_gate(classifier=classifier, labels=labels)
    run = TrainingRun(
        tenant=classifier.tenant, classifier=classifier, sample_set=sample_set, created_by=actor
    )
    run.full_clean()
    run.save()
    training_enqueue(run=run)
    return run


def training_enqueue(*, run: TrainingRun) -> None:
    """Send the training task with the run's id once the transaction commits."""
    from django.utils.module_loading import import_string

    task = import_string(TASK)
    run_id = run.pk
    transaction.on_commit(lambda: task.delay(run_id))


@transaction.atomic
def training_claim(*, run_id: int) -> TrainingRun | None:
    """Mark a queued training running; None when there is nothing to run.

    A running training started longer ago than the task's hard time limit lost
    its worker (acks_late redelivered its task): it starts again from the
    beginning, which is safe because nothing is stored before the end. One
    started more recently belongs to a live worker and is left alone.
    """
    run = TrainingRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        return None
    now = timezone.now()
    lost = run.status == Status.RUNNING and (
        run.started_at is None or (now - run.started_at).total_seconds() > TIME_LIMIT
    )
    if lost:
        training_transition(run, Status.QUEUED, progress_done=0)
    if run.status != Status.QUEUED:
        return None
    return training_transition(run, Status.RUNNING, started_at=now, reason="")


def training_fail(*, run: TrainingRun, reason: str) -> TrainingRun:
    """Mark an active training failed with a reason; it has no version."""
    run.refresh_from_db()
    if not run.is_active:
        return run
    return training_transition(run, Status.FAILED, reason=reason, finished_at=timezone.now())


def training_retry(*, run: TrainingRun) -> TrainingRun:
    """Queue a failed training again."""
    with transaction.atomic():
        training_transition(run, Status.QUEUED, reason="", progress_done=0)
        training_enqueue(run=run)
    return run


def _progress(run: TrainingRun, stage: str, done: int, total: int) -> None:
    TrainingRun.objects.filter(pk=run.pk).update(
        stage=stage, progress_done=done, progress_total=total
    )


def training_execute(*, run: TrainingRun, models) -> TrainingRun:
    """Train the run's classifier and store its version; errors propagate to the caller."""
    classifier = run.classifier
    samples, labels = training_samples(classifier=classifier, sample_set=run.sample_set)
    started = time.perf_counter()
    features, kept, skipped, pins = _features(run, classifier.target, samples, models)
    labels = labels[kept]
    samples = [samples[i] for i in kept]
    training_gate(classifier=classifier, labels=labels, skipped=len(skipped))
    feature_s = time.perf_counter() - started
    started = time.perf_counter()
    trained = classifier_training.train(
        features, labels, progress=lambda d, t: _progress(run, "training", d, t)
    )
    metrics = classifier_training.metrics(
        labels, trained.oof, target_precision=classifier.target_precision
    )
    fit_s = time.perf_counter() - started
    ids = [s.pk for s in samples]
    metrics["folds"] = trained.folds
    metrics["oof_scores"] = [round(float(p), 5) for p in trained.oof]
    issues = [
        {"sample": ids[i], "label": bool(labels[i]), "score": round(float(trained.oof[i]), 4)}
        for i in trained.label_issues
    ]
    with transaction.atomic():
        version = classifier_version_create(
            classifier=classifier,
            actor=run.created_by,
            target=classifier.target,
            coefficients=trained.coefficients(),
            feature_pins=pins,
            metrics=metrics,
            sample_set_id=run.sample_set_id,
            sample_ids=ids,
            sample_labels=[int(v) for v in labels],
            samples_sha256=samples_digest(ids, labels),
        )
        return training_transition(
            run,
            Status.DONE,
            version=version,
            label_issues=issues,
            skipped=skipped,
            stage="done",
            finished_at=timezone.now(),
            timings_s={"features": round(feature_s, 3), "fit": round(fit_s, 3)},
        )


def samples_digest(ids: list[int], labels) -> str:
    """sha256 of the training set: each sample id with its label, in training order."""
    text = "\n".join(f"{i}:{int(v)}" for i, v in zip(ids, labels, strict=True))
    return hashlib.sha256(text.encode()).hexdigest()


def _features(run, target: str, samples: list[Sample], models):
    """(features, kept row indices, skipped [{sample, why}], feature pins) for the samples."""
    if target == CustomClassifier.Target.PROMPT:
        encoder = models.text_encoder()
        _progress(run, "features", 0, len(samples))
        vectors = _unit(text_vectors(encoder, [s.prompt for s in samples]).astype(np.float64))
        _progress(run, "features", len(samples), len(samples))
        return vectors, list(range(len(samples))), [], _pins(encoder, [])
    encoder = models.image_encoder()
    scorers = [s for s in models.scorers("image") if s.pin.name in FEATURE_SCORERS]
    outputs = sorted(o for s in scorers for o in s.outputs)
    rows, kept, skipped = [], [], []
    for start in range(0, len(samples), IMAGE_CHUNK):
        chunk = samples[start : start + IMAGE_CHUNK]
        images, indices = _load_images(chunk, start, skipped)
        if images:
            vectors = image_vectors(
                encoder, [samples[i].image_sha256 for i in indices], images.__getitem__
            )
            scores = [{} for _ in images]
            for scorer in scorers:
                for merged, got in zip(scores, scorer.score(images), strict=True):
                    merged.update(got)
            rows.append(feature_matrix(_unit(vectors), scores, outputs))
            kept += indices
        _progress(run, "features", min(start + IMAGE_CHUNK, len(samples)), len(samples))
    width = encoder.dim + len(outputs)
    features = np.vstack(rows) if rows else np.zeros((0, width))
    return features, kept, skipped, _pins(encoder, scorers, outputs)


def _load_images(chunk, offset: int, skipped: list) -> tuple[list, list[int]]:
    images, indices = [], []
    for n, sample in enumerate(chunk):
        try:
            with sample.image.open("rb") as handle:
                images.append(load_image(handle.read(), name=sample.image.name))
            indices.append(offset + n)
        except (ImageError, OSError, ValueError) as error:
            skipped.append({"sample": sample.pk, "why": str(error)[:300]})
    return images, indices


def _unit(vectors: np.ndarray) -> np.ndarray:
    # The engine scores unit rows (evaluate's unit_rows); training sees the same.
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def _pins(encoder, scorers, outputs=()) -> dict:
    return {
        "encoder": {**encoder.pin.as_dict(), "dim": encoder.dim},
        "outputs": list(outputs),
        "output_models": {s.pin.name: s.pin.as_dict() for s in scorers},
    }
