"""A worker killed mid-test: the run ends failed with a reason, and a retry finishes it."""

import os
import signal
import time

import pytest
from django.urls import reverse, reverse_lazy

from moderation.models import TestRun
from tests.policy_admin.factories import KeywordRuleSetFactory
from tests.worker import running_worker

pytestmark = pytest.mark.worker

URL = reverse_lazy("live-test-list", kwargs={"tenant": "acme"})
FAST_BEATS = {"MODERATION_RUN_HEARTBEAT_SECONDS": "1"}


def live_test(pk, action="detail"):
    return reverse(f"live-test-{action}", kwargs={"tenant": "acme", "pk": pk})


def poll(api_client, run_id, until, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api_client.get(live_test(run_id)).json()
        if until(run):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} never reached the expected state: {run}")


def test_killed_worker_leaves_a_failed_run_that_a_retry_completes(
    api_client, transactional_db, tenant, policy, editor, settings, tmp_path
):
    settings.MODERATION_RUN_STALE_SECONDS = 4
    # Enough terms that building and compiling the draft takes a few seconds.
    terms = [f"forbidden{i} phrase{i % 911}" for i in range(100_000)]
    KeywordRuleSetFactory(policy=policy, terms="\n".join(terms), term_count=len(terms))
    api_client.force_authenticate(editor)

    with running_worker(log_path=tmp_path / "first.log", env=FAST_BEATS) as worker:
        run_id = api_client.post(URL, {"policy": "default", "prompt": "forbidden7 phrase7"}).json()[
            "id"
        ]
        poll(api_client, run_id, lambda r: r["status"] == "running")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()

    failed = poll(api_client, run_id, lambda r: r["status"] != "running")
    assert failed["status"] == "failed"
    assert "stopped answering" in failed["error"]

    with running_worker(log_path=tmp_path / "second.log", env=FAST_BEATS):
        assert api_client.post(live_test(run_id, "retry")).status_code == 202
        done = poll(api_client, run_id, lambda r: r["status"] in ("succeeded", "failed"))
    assert done["status"] == "succeeded", done["error"]
    assert done["result"]["decisions"][0]["action"] == "block"
    assert TestRun.objects.get(pk=run_id).attempts == 1
