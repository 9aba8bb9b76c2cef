"""The live console pages: rights, outsiders, bad input, and how results are shown."""

import datetime as dt
import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from moderation.models import TestRun
from tests.images import png_bytes
from tests.policy_admin.factories import PolicyFactory

pytestmark = pytest.mark.django_db

CONSOLE = reverse_lazy("live-console", kwargs={"tenant": "acme", "slug": "default"})


def run_url(run, action=None, tenant="acme"):
    """A live test's page of the default policy, or one of its actions (retry, rerun)."""
    kwargs = {"tenant": tenant, "slug": "default", "pk": run.pk}
    if action is None:
        return reverse("live-run", kwargs=kwargs)
    return reverse("live-run-action", kwargs={**kwargs, "action": action})


@pytest.fixture
def run(policy, editor):
    return TestRun.objects.create(
        tenant=policy.tenant,
        policy=policy,
        prompt="a gore scene",
        policy_revision=1,
        created_by=editor,
    )


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    """Page tests check what is stored and shown; the worker path has its own tests."""
    sent = []
    monkeypatch.setattr("moderation.tasks.gpu.run_execute.delay", sent.append)
    return sent


def finished(run, action="block"):
    run.status = TestRun.Status.SUCCEEDED
    run.bundle_sha256 = "ab" * 32
    run.result = {
        "bundle": {"sha256": "ab" * 32, "revision": 1, "pins": {}, "build_ms": 3.0},
        "warnings": [],
        "device": {"device": "cpu"},
        "inputs": [{"prompt": run.prompt, "image": None}],
        "decisions": [
            {
                "action": action,
                "calibrated": True,
                "timings_ms": {"keywords": 0.1},
                "stamp": {},
                "results": [
                    {
                        "kind": "keyword",
                        "rule_id": "keywords:1",
                        "rule_name": "Gore",
                        "modality": "prompt",
                        "action": "block",
                        "fired": action == "block",
                        "score": 1.0,
                        "threshold": None,
                        "explanation": {
                            "match_count": 1,
                            "matches": [{"term": "gore", "span": [2, 6], "text": "gore"}],
                        }
                        if action == "block"
                        else {"match_count": 0, "matches": []},
                    }
                ],
            }
        ],
    }
    run.save()
    return run


def test_anonymous_is_sent_to_login(client, run):
    for url in (CONSOLE, run_url(run)):
        assert client.get(url).status_code == 302


def test_outsider_gets_404_for_console_and_runs(client, run, outsider, other_tenant):
    client.force_login(outsider)
    assert client.get(CONSOLE).status_code == 404
    assert client.post(CONSOLE, {"prompt": "x"}).status_code == 404
    other = PolicyFactory(tenant=other_tenant, slug="default")
    # Their own policy URL, our run id: still a 404.
    url = run_url(run, tenant="globex")
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404
    assert client.post(run_url(run, "retry", "globex")).status_code == 404
    assert other.pk


def test_viewer_reads_but_cannot_run(client, run, viewer, no_enqueue):
    client.force_login(viewer)
    body = client.get(CONSOLE).content.decode()
    assert "running one needs the editor role" in body
    assert client.post(CONSOLE, {"prompt": "hello"}).status_code == 403
    assert client.post(run_url(run, "rerun")).status_code == 403
    assert no_enqueue == []


def test_editor_starts_a_test_that_polls_while_queued(client, policy, editor, no_enqueue):
    client.force_login(editor)
    image = SimpleUploadedFile("cat.png", png_bytes())
    response = client.post(
        CONSOLE, {"prompt": "a gore scene", "images": [image]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 202
    run = TestRun.objects.get()
    body = response.content.decode()
    assert f'hx-get="{run_url(run)}"' in body
    assert 'hx-trigger="every 1s"' in body
    assert run.images.get().original_name == "cat.png"


def test_bad_upload_is_refused_with_the_file_named(client, policy, editor):
    client.force_login(editor)
    bad = SimpleUploadedFile("notes.txt", b"just text")
    response = client.post(
        CONSOLE, {"prompt": "x", "images": [bad]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert "notes.txt" in html.unescape(response.content.decode())
    assert not TestRun.objects.exists()


def test_a_long_queued_test_says_no_worker_picked_it_up(client, run, editor):
    TestRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(seconds=30))
    client.force_login(editor)
    body = client.get(run_url(run), headers={"HX-Request": "true"}).content.decode()
    assert "no worker has picked this test up" in body


def test_finished_test_highlights_the_match_and_stops_polling(client, run, editor):
    finished(run)
    client.force_login(editor)
    body = client.get(run_url(run), headers={"HX-Request": "true"}).content.decode()
    assert '<mark title="matched “gore”">gore</mark>' in body
    assert "hx-trigger" not in body


def test_failed_test_offers_retry_which_requeues(
    client, run, editor, no_enqueue, django_capture_on_commit_callbacks
):
    run.status, run.error = TestRun.Status.FAILED, "The worker stopped answering."
    run.save()
    client.force_login(editor)
    body = client.get(run_url(run), headers={"HX-Request": "true"}).content.decode()
    assert "The worker stopped answering." in body
    assert "live-retry" in body
    with django_capture_on_commit_callbacks(execute=True):
        client.post(run_url(run, "retry"))
    run.refresh_from_db()
    assert run.status == TestRun.Status.PENDING
    assert no_enqueue == [run.pk]


def test_rerun_shows_what_changed(client, run, editor):
    finished(run, action="allow")
    client.force_login(editor)
    client.post(run_url(run, "rerun"))
    again = TestRun.objects.exclude(pk=run.pk).get()
    assert again.rerun_of == run
    finished(again, action="block")
    body = client.get(run_url(again), headers={"HX-Request": "true"}).content.decode()
    assert "is now" in body
    assert "Gore now fires (block)" in body


def test_unknown_action_is_404(client, run, editor):
    client.force_login(editor)
    assert client.post(run_url(run, "explode")).status_code == 404


def test_policy_editor_links_to_the_console(client, policy, viewer):
    client.force_login(viewer)
    url = reverse("policy-editor", kwargs={"tenant": "acme", "slug": "default"})
    body = client.get(url).content.decode()
    assert f'href="{CONSOLE}"' in body


def test_an_oversized_upload_is_refused_before_it_is_read(client, policy, editor):
    client.force_login(editor)
    huge = SimpleUploadedFile("huge.png", b"\x89PNG" + b"0" * (10 * 2**20 + 1))
    response = client.post(CONSOLE, {"images": [huge]}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "huge.png is 10.0 MB; images may be at most 10 MB" in response.content.decode()
    assert not TestRun.objects.exists()
