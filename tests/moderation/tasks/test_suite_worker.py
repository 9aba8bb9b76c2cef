"""Suites on a real worker: a full run, and a run whose worker is killed and replaced."""

import os
import signal
import time

import pytest

from moderation.models import SampleResult, TestRun
from moderation.selectors.runs import run_get
from moderation.services import lifecycle, suites
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import KeywordRuleSetFactory
from tests.worker import running_worker

pytestmark = pytest.mark.worker


def poll(tenant, run_id, until, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # As the suite's page does: a silent worker's run is queued again, then shown.
        run = lifecycle.run_reap(run=run_get(tenant=tenant, pk=run_id))
        if until(run):
            return run
        time.sleep(0.2)
    raise AssertionError(f"suite {run_id} never reached the expected state: {run.status}")


def generated_suite(policy, editor, count):
    """`count` prompts, every third one carrying the policy's keyword and labelled block."""
    tenant = policy.tenant
    KeywordRuleSetFactory(policy=policy, terms="forbidden", term_count=1, action="block")
    sample_set = SampleSetFactory(tenant=tenant)
    for i in range(count):
        blocked = i % 3 == 0
        SampleFactory(
            sample_set=sample_set,
            prompt=f"{'forbidden' if blocked else 'kitten'} picture {i}",
            expected_action="block" if blocked else "allow",
        )
    return suites.suite_start(sample_set=sample_set, policy=policy, actor=editor)


def test_a_suite_finishes_on_a_worker_with_the_expected_counts(
    transactional_db, tenant, policy, editor, tmp_path
):
    with running_worker(log_path=tmp_path / "worker.log"):
        run = generated_suite(policy, editor, 90)
        done = poll(tenant, run.pk, lambda r: not r.is_active)
    assert done.status == TestRun.Status.SUCCEEDED, done.error
    assert (done.progress_done, done.progress_total) == (90, 90)
    assert done.result["actions"] == {"allow": 60, "block": 30}
    assert done.result["metrics"]["action"]["block"]["f1"] == 1.0


def test_a_suite_whose_worker_is_killed_resumes_and_judges_every_sample_once(
    transactional_db, tenant, policy, editor, settings, tmp_path
):
    settings.MODERATION_RUN_STALE_SECONDS = 4
    env = {"MODERATION_RUN_HEARTBEAT_SECONDS": "1", "MODERATION_SUITE_BATCH_SIZE": "4"}
    total = 1500
    with running_worker(log_path=tmp_path / "first.log", env=env) as worker:
        run = generated_suite(policy, editor, total)
        partway = poll(tenant, run.pk, lambda r: r.progress_done >= 40)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert partway.progress_done < total, "the suite finished before the worker was killed"
    stopped_at = SampleResult.objects.filter(run=run).count()

    with running_worker(log_path=tmp_path / "second.log", env=env):
        done = poll(tenant, run.pk, lambda r: not r.is_active, timeout=240)
    assert done.status == TestRun.Status.SUCCEEDED, done.error
    assert done.attempts == 2
    results = SampleResult.objects.filter(run=run)
    assert results.count() == total == done.progress_done
    assert results.values("sample").distinct().count() == total
    assert stopped_at < total
    assert done.result["actions"] == {"allow": 1000, "block": 500}
