"""The live console explains a classifier's score: threshold, nearest training samples, links."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from moderation.models import TestRun
from tests.images import png_bytes
from tests.moderation.factories import SampleFactory, SampleSetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr("moderation.tasks.gpu.run_execute.delay", lambda *a: None)


@pytest.fixture
def samples(tenant, media):
    made = SampleSetFactory(tenant=tenant, name="Client samples")
    mascot = SampleFactory(sample_set=made, prompt="our mascot doing a backflip")
    lake = SampleFactory(sample_set=made, prompt="", external_id="lake-7")
    lake.image.save("lake.png", ContentFile(png_bytes((10, 10, 200))), save=True)
    return mascot, lake


def classifier_run(policy, editor, neighbours) -> TestRun:
    rule = {
        "kind": "classifier", "rule_id": "classifier:5", "rule_name": "Mascot",
        "modality": "prompt", "action": "review", "fired": True, "score": 0.81,
        "threshold": 0.6, "explanation": {"version": 2, "classifier_score": 0.81},
    }  # fmt: skip
    return TestRun.objects.create(
        tenant=policy.tenant, policy=policy, prompt="our mascot", policy_revision=1,
        created_by=editor, status=TestRun.Status.SUCCEEDED, bundle_sha256="ab" * 32,
        result={
            "bundle": {"sha256": "ab" * 32, "revision": 1, "pins": {}, "build_ms": 1.0},
            "warnings": [], "device": {"device": "cpu"},
            "inputs": [{"prompt": "our mascot", "image": None}],
            "decisions": [{"action": "review", "calibrated": True, "timings_ms": {},
                           "stamp": {}, "results": [rule]}],
            "neighbours": [{"classifier:5": neighbours}],
        },
    )  # fmt: skip


def console(client, run, tenant="acme"):
    url = reverse("live-console", kwargs={"tenant": tenant, "slug": "default"})
    return client.get(url, {"run": run.pk})


def test_the_explanation_shows_score_threshold_and_nearest_samples_with_links(
    client, policy, editor, samples
):
    mascot, lake = samples
    run = classifier_run(policy, editor, {
        "positive": [{"sample": mascot.pk, "similarity": 0.912}],
        "negative": [{"sample": lake.pk, "similarity": 0.204}],
    })  # fmt: skip
    client.force_login(editor)
    page = console(client, run).content.decode()
    assert "calibrated probability 0.810 against threshold 0.60" in page
    assert 'data-testid="classifier-neighbours"' in page
    assert "Nearest positives:" in page
    assert "“our mascot doing a backflip”</a> (0.912)" in page
    assert f"/t/acme/samples/{mascot.sample_set_id}/?sample={mascot.pk}" in page
    assert f'src="{lake.image.url}"' in page
    assert "lake-7</a> (0.204)" in page


def test_a_deleted_sample_is_left_out_and_a_note_is_said(client, policy, editor, samples):
    mascot, lake = samples
    run = classifier_run(policy, editor, {
        "positive": [{"sample": mascot.pk, "similarity": 0.9}],
        "negative": [{"sample": lake.pk, "similarity": 0.2}],
    })  # fmt: skip
    lake.delete()
    client.force_login(editor)
    page = console(client, run).content.decode()
    assert "Nearest negatives: none stored" in page
    noted = classifier_run(policy, editor, {"note": "its training samples are no longer stored"})
    page = console(client, noted).content.decode()
    assert "No nearest training samples: its training samples are no longer stored." in page


def test_another_tenants_samples_are_not_shown(client, policy, editor, other_tenant):
    theirs = SampleFactory(sample_set__tenant=other_tenant, prompt="globex secret prompt")
    run = classifier_run(
        policy, editor, {"positive": [{"sample": theirs.pk, "similarity": 0.99}], "negative": []}
    )
    client.force_login(editor)
    page = console(client, run).content.decode()
    assert "globex secret prompt" not in page
    assert "Nearest positives: none stored" in page


def test_another_tenants_run_is_404(client, policy, editor, samples, outsider):
    mascot, _ = samples
    run = classifier_run(
        policy, editor, {"positive": [{"sample": mascot.pk, "similarity": 0.9}], "negative": []}
    )
    client.force_login(outsider)
    assert console(client, run, tenant="acme").status_code == 404
    url = reverse("live-run", kwargs={"tenant": "globex", "slug": "default", "pk": run.pk})
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404
