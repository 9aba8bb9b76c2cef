"""Live tests through the API: rights, bad input, and a real worker end to end."""

import time

import pytest
from django.urls import reverse

from moderation.models import TestRun
from tests.images import png_bytes
from tests.policy_admin.factories import (
    CategoryThresholdFactory,
    KeywordRuleSetFactory,
)


def live_tests(tenant="acme"):
    return reverse("live-test-list", kwargs={"tenant": tenant})


def live_test(pk, action="detail", tenant="acme"):
    """One live test through the API, or one of its actions (retry, rerun, add-sample)."""
    return reverse(f"live-test-{action}", kwargs={"tenant": tenant, "pk": pk})


@pytest.mark.django_db
def test_anonymous_is_401(api_client, policy):
    assert api_client.get(live_tests()).status_code == 401
    assert api_client.post(live_tests(), {"policy": "default"}).status_code == 401


@pytest.mark.django_db
def test_viewer_reads_but_cannot_start(api_client, policy, viewer):
    api_client.force_authenticate(viewer)
    assert api_client.get(live_tests()).status_code == 200
    response = api_client.post(live_tests(), {"policy": "default", "prompt": "hi"})
    assert response.status_code == 403
    assert not TestRun.objects.exists()


@pytest.mark.django_db
def test_other_tenants_policy_and_runs_are_404(api_client, policy, outsider, editor):
    run = TestRun.objects.create(tenant=policy.tenant, policy=policy, prompt="x", policy_revision=1)
    api_client.force_authenticate(outsider)
    assert api_client.get(live_test(run.pk)).status_code == 404
    assert api_client.get(live_test(run.pk, tenant="globex")).status_code == 404
    assert api_client.post(live_test(run.pk, "retry", "globex")).status_code == 404
    response = api_client.post(live_tests("globex"), {"policy": "default", "prompt": "hi"})
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"prompt": "  "}, "Type a prompt, upload an image, or both."),
        ({"prompt": "x" * 20_001}, "prompt"),
    ],
)
def test_bad_input_is_refused_before_anything_is_queued(api_client, policy, editor, data, message):
    api_client.force_authenticate(editor)
    response = api_client.post(live_tests(), {"policy": "default", **data})
    assert response.status_code == 400
    assert message in str(response.json())
    assert not TestRun.objects.exists()


@pytest.mark.django_db
def test_a_file_that_is_not_an_image_is_refused_naming_it(api_client, policy, editor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api_client.force_authenticate(editor)
    bad = SimpleUploadedFile("report.pdf", b"%PDF-1.4 not an image")
    response = api_client.post(
        live_tests(), {"policy": "default", "images": [bad]}, format="multipart"
    )
    assert response.status_code == 400
    assert "report.pdf" in response.json()["message"]
    assert not TestRun.objects.exists()


@pytest.mark.worker
def test_live_test_end_to_end_on_a_real_worker(
    api_client, celery_worker_process, tenant, policy, editor, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    KeywordRuleSetFactory(
        policy=policy, name="Gore", action="block", terms="beheading", term_count=1
    )
    CategoryThresholdFactory(policy=policy, category="nudity", applies_to="image")
    api_client.force_authenticate(editor)
    image = SimpleUploadedFile("grey.png", png_bytes((128, 128, 128), (32, 32)))
    started = api_client.post(
        live_tests(),
        {"policy": "default", "prompt": "a B3HEADING scene", "images": [image]},
        format="multipart",
    )
    assert started.status_code == 202, started.content
    run = wait_for(api_client, started.json()["id"])

    assert run["status"] == "succeeded", run["error"]
    (decision,) = run["result"]["decisions"]
    assert decision["action"] == "block"
    keyword = next(r for r in decision["results"] if r["kind"] == "keyword")
    assert keyword["fired"] is True
    spans = keyword["explanation"]["matches"]
    assert [(m["span"], m["text"], m["term"]) for m in spans] == [
        ([2, 11], "B3HEADING", "beheading")
    ]
    nudity = next(r for r in decision["results"] if r["kind"] == "category")
    assert nudity["fired"] is False  # a flat grey square
    assert 0.0 <= nudity["score"] < nudity["threshold"]
    assert run["result"]["bundle"]["sha256"] == run["bundle_sha256"]
    # The request id of the POST follows the work into the worker's log lines.
    request_id = started["X-Request-ID"]
    assert f"[{request_id}] live test run {run['id']} of acme/default finished: block" in (
        (tmp_path / "worker.log").read_text()
    )


def wait_for(api_client, run_id, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api_client.get(live_test(run_id)).json()
        if run["status"] in ("succeeded", "failed"):
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish: {run}")
