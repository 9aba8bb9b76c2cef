"""Suite runs in-process: every sample judged once, metrics stored, resume, cancel, reaping."""

import datetime as dt

import pytest
from django.utils import timezone

from kernel.errors import ApplicationError, ConflictError
from moderation.models import SampleResult, TestRun
from moderation.selectors.runs import run_get
from moderation.services import lifecycle, suites
from moderation.tasks.gpu import suite_run_execute
from policy_admin.bundles.builder import bundle_build
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]


@pytest.fixture
def suite(tenant, policy, editor, django_capture_on_commit_callbacks):
    """A set of 10 samples: 4 correct blocks, 4 correct allows, one false positive, one miss."""
    KeywordRuleSetFactory(policy=policy, terms="forbidden", term_count=1, action="block")
    sample_set = SampleSetFactory(tenant=tenant)
    for i in range(4):
        SampleFactory(sample_set=sample_set, prompt=f"forbidden thing {i}", expected_action="block")
        SampleFactory(sample_set=sample_set, prompt=f"a kitten {i}", expected_action="allow")
    SampleFactory(sample_set=sample_set, external_id="fp", prompt="forbidden but fine")
    SampleFactory(sample_set=sample_set, external_id="fn", prompt="subtle", expected_action="block")
    with django_capture_on_commit_callbacks(execute=True):
        run = suites.suite_start(sample_set=sample_set, policy=policy, actor=editor)
    return run


def test_a_suite_judges_every_sample_once_and_stores_its_metrics(suite, queued):
    assert queued == [suite.pk]
    suite_run_execute(suite.pk)
    suite.refresh_from_db()
    assert suite.status == TestRun.Status.SUCCEEDED, suite.error
    assert (suite.progress_done, suite.progress_total) == (10, 10)
    assert SampleResult.objects.filter(run=suite).count() == 10
    block = suite.result["metrics"]["action"]["block"]
    assert (block["tp"], block["fp"], block["fn"], block["tn"]) == (4, 1, 1, 4)
    assert block["precision"] == 0.8
    assert suite.result["actions"] == {"allow": 5, "block": 5}
    assert "total" in suite.result["metrics"]["latency_ms"]
    (rule,) = suite.result["metrics"]["rules"].values()
    assert rule["tp"] == 4


EARLIER_DECISION = {"action": "review", "results": [], "timings_ms": {"total": 1.0}}


def test_a_resumed_suite_keeps_stored_results_and_judges_only_the_rest(suite):
    first = suites.suite_pending(suite, 3)
    SampleResult.objects.bulk_create(
        SampleResult(
            tenant=suite.tenant, run=suite, sample=s, action="review", decision=EARLIER_DECISION
        )
        for s in first
    )
    suite_run_execute(suite.pk)
    suite.refresh_from_db()
    assert suite.status == TestRun.Status.SUCCEEDED, suite.error
    assert SampleResult.objects.filter(run=suite).count() == 10
    kept = SampleResult.objects.filter(run=suite, sample__in=first)
    assert set(kept.values_list("action", flat=True)) == {"review"}


def test_storing_a_batch_twice_adds_nothing(suite):
    from kernel import registry
    from moderation.services import scoring

    batch = suites.suite_pending(suite, 4)
    bundle = registry.compiled(bundle_build(policy=suite.policy, models=registry.models()).bundle)
    decisions = scoring.evaluate_split_on_oom(
        bundle, [scoring._sample_item(s) for s in batch], registry.models()
    )
    assert suites.suite_store_batch(run=suite, samples=batch, decisions=decisions) == 4
    assert suites.suite_store_batch(run=suite, samples=batch, decisions=decisions) == 4


def test_a_cancelled_suite_is_not_run_and_cannot_be_cancelled_twice(suite):
    suites.suite_cancel(run=suite)
    suite_run_execute(suite.pk)
    assert not SampleResult.objects.filter(run=suite).exists()
    with pytest.raises(ConflictError, match="already cancelled"):
        suites.suite_cancel(run=suite)


def claim(suite, worker):
    return lifecycle.run_claim(run_id=suite.pk, kind=TestRun.Kind.SUITE, worker=worker)


def test_a_running_suite_with_a_live_worker_is_left_alone(suite):
    assert claim(suite, "w1") is not None
    assert claim(suite, "w2") is None


def test_a_silent_suite_is_queued_again_when_read(
    suite, queued, settings, tenant, django_capture_on_commit_callbacks
):
    settings.MODERATION_RUN_STALE_SECONDS = 5
    claim(suite, "w1")
    TestRun.objects.filter(pk=suite.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=6)
    )
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        read = lifecycle.run_reap(run=run_get(tenant=tenant, pk=suite.pk))
    assert read.status == TestRun.Status.PENDING
    assert queued == [suite.pk]
    again = claim(suite, "w2")
    assert again.attempts == 2


def test_a_draft_changed_during_an_interruption_fails_the_resume(suite):
    TestRun.objects.filter(pk=suite.pk).update(bundle_sha256="0" * 64)
    suite_run_execute(suite.pk)
    suite.refresh_from_db()
    assert suite.status == TestRun.Status.FAILED
    assert "draft changed" in suite.error


def test_an_empty_set_cannot_be_run(tenant, editor):
    policy = PolicyFactory(tenant=tenant)
    with pytest.raises(ApplicationError, match="is empty"):
        suites.suite_start(sample_set=SampleSetFactory(tenant=tenant), policy=policy, actor=editor)
