"""Training custom classifiers: sample selection, gates, versions, skipped images, failures."""

import io

import pytest
from django.core.files.base import ContentFile
from django.http import Http404
from PIL import Image

from kernel.errors import ApplicationError
from moderation.models import TrainingRun
from moderation.services import classifiers as service
from policy_admin.models import ClassifierVersion
from tests.moderation.engine.conftest import FakeModels
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import CustomClassifierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample_set(tenant):
    return SampleSetFactory(tenant=tenant)


def prompt_samples(sample_set, positives=12, negatives=14):
    made = []
    for n in range(positives):
        made.append(SampleFactory(
            sample_set=sample_set, prompt=f"our mascot pose {n}", tags=["mascot"],
            expected_action="review",
        ))  # fmt: skip
    for n in range(negatives):
        made.append(SampleFactory(sample_set=sample_set, prompt=f"a quiet lake scene {n}"))
    return made


@pytest.fixture
def classifier(policy):
    return CustomClassifierFactory(policy=policy, name="Mascot")


def png(rgb) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def image_sample(sample_set, rgb, *, positive: bool, data: bytes | None = None):
    sample = SampleFactory(
        sample_set=sample_set, prompt="", tags=["mascot"] if positive else [],
        image_sha256=f"{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}".ljust(64, "0"),
    )  # fmt: skip
    sample.image.save(f"{sample.pk}.png", ContentFile(data or png(rgb)), save=True)
    return sample


def test_filters_pick_positives_and_negatives(classifier, sample_set):
    made = prompt_samples(sample_set, positives=2, negatives=3)
    SampleFactory(sample_set=sample_set, prompt="blocked thing", expected_action="block")
    chosen, labels = service.training_samples(classifier=classifier, sample_set=sample_set)
    assert [s.pk for s in chosen] == [s.pk for s in made]
    assert labels.tolist() == [True, True, False, False, False]


def test_too_few_samples_are_refused_with_the_counts(classifier, sample_set, editor):
    prompt_samples(sample_set, positives=4, negatives=30)
    with pytest.raises(ApplicationError) as caught:
        service.training_start(classifier=classifier, sample_set=sample_set, actor=editor)
    message = caught.value.message
    assert "4 positives and 30 negatives" in message
    assert "Add 6 more positives" in message
    assert not TrainingRun.objects.exists()


def test_another_tenants_sample_set_is_404(classifier, other_tenant, editor):
    theirs = SampleSetFactory(tenant=other_tenant)
    prompt_samples(theirs)
    with pytest.raises(Http404):
        service.training_start(classifier=classifier, sample_set=theirs, actor=editor)


def test_training_stores_an_immutable_version_with_pins_and_provenance(
    classifier, sample_set, editor
):
    made = prompt_samples(sample_set)
    run = service.training_start(classifier=classifier, sample_set=sample_set, actor=editor)
    run = service.training_claim(run_id=run.pk)
    models = FakeModels()
    run = service.training_execute(run=run, models=models)
    assert run.status == TrainingRun.Status.DONE
    version = run.version
    assert (version.number, version.target, version.created_by) == (1, "prompt", editor)
    assert version.sample_ids == [s.pk for s in made]
    assert version.samples_sha256 == service.samples_digest(
        version.sample_ids, version.sample_labels
    )
    assert version.feature_pins["encoder"]["sha256"] == models.text.pin.sha256
    assert len(version.coefficients["weights"]) == models.text.dim
    assert version.metrics["positives"] == 12
    assert version.metrics["average_precision"] > 0.9
    assert run.progress_done == run.progress_total
    with pytest.raises(Exception, match="immutable"):
        version.save()


def test_a_second_training_is_version_two(classifier, sample_set, editor):
    prompt_samples(sample_set)
    for _ in range(2):
        run = service.training_start(classifier=classifier, sample_set=sample_set, actor=editor)
        service.training_execute(run=service.training_claim(run_id=run.pk), models=FakeModels())
    assert list(classifier.versions.values_list("number", flat=True)) == [2, 1]


def test_a_mislabelled_sample_is_listed_as_a_label_issue(classifier, sample_set, editor):
    made = prompt_samples(sample_set, positives=20, negatives=20)
    wrong = SampleFactory(sample_set=sample_set, prompt="our mascot pose again")  # labelled allow
    run = service.training_start(classifier=classifier, sample_set=sample_set, actor=editor)
    run = service.training_execute(run=service.training_claim(run_id=run.pk), models=FakeModels())
    assert wrong.pk in [issue["sample"] for issue in run.label_issues]
    assert len(run.label_issues) < len(made) // 4


def test_images_that_no_longer_load_are_skipped_and_counted(policy, sample_set, editor, media):
    classifier = CustomClassifierFactory(policy=policy, target="image")
    for n in range(12):
        image_sample(sample_set, (200 + n, 10, 10), positive=True)
    for n in range(12):
        image_sample(sample_set, (10, 10 + n, 200), positive=False)
    broken = image_sample(sample_set, (1, 1, 1), positive=False, data=png((1, 1, 1))[:40])
    run = service.training_start(classifier=classifier, sample_set=sample_set, actor=editor)
    models = FakeModels()
    run = service.training_execute(run=service.training_claim(run_id=run.pk), models=models)
    assert [s["sample"] for s in run.skipped] == [broken.pk]
    assert "not an image" in run.skipped[0]["why"]
    pins = run.version.feature_pins
    assert pins["outputs"] == ["nudenet.BUTTOCKS_EXPOSED", "nudenet.FEMALE_BREAST_EXPOSED"]
    assert set(pins["output_models"]) == {"nudenet"}
    assert len(run.version.coefficients["weights"]) == models.image.dim + 2
    assert broken.pk not in run.version.sample_ids


def test_a_crash_mid_training_fails_the_run_with_no_version(
    classifier, sample_set, editor, monkeypatch
):
    from moderation.tasks import gpu

    prompt_samples(sample_set)
    run = service.training_start(classifier=classifier, sample_set=sample_set, actor=editor)
    monkeypatch.setattr("kernel.registry.models", FakeModels)

    def crash(*args, **kwargs):
        raise MemoryError("out of memory in fold 3")

    monkeypatch.setattr(service.classifier_training, "train", crash)
    with pytest.raises(MemoryError):
        gpu.training_execute(run.pk)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert "out of memory in fold 3" in run.reason
    assert run.version is None
    assert not ClassifierVersion.objects.exists()


def test_the_task_stores_a_refusal_as_the_reason(classifier, sample_set, editor, monkeypatch):
    from moderation.tasks import gpu

    made = prompt_samples(sample_set)
    run = service.training_start(classifier=classifier, sample_set=sample_set, actor=editor)
    monkeypatch.setattr("kernel.registry.models", FakeModels)
    for sample in made[:5]:
        sample.delete()  # the set changed after the training was queued
    gpu.training_execute(run.pk)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert "Too few samples" in run.reason
    assert "Add 3 more positives" in run.reason


def test_a_redelivered_task_leaves_a_live_training_alone_and_restarts_a_lost_one(
    classifier, sample_set, editor
):
    import datetime as dt

    from django.utils import timezone

    prompt_samples(sample_set)
    run = service.training_start(classifier=classifier, sample_set=sample_set, actor=editor)
    assert service.training_claim(run_id=run.pk) is not None
    assert service.training_claim(run_id=run.pk) is None  # its worker is alive
    long_ago = timezone.now() - dt.timedelta(seconds=service.TIME_LIMIT + 1)
    TrainingRun.objects.filter(pk=run.pk).update(started_at=long_ago)
    again = service.training_claim(run_id=run.pk)
    assert again.status == TrainingRun.Status.RUNNING
    assert again.started_at > long_ago
