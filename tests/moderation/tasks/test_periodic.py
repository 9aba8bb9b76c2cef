"""What Celery beat runs every minute: alert rules watching live things, the sweep of silent
runs, and the sweep of expired review leases; and nightly: the prune of old decision records."""

import datetime as dt
import os
import subprocess
import sys
import time

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from kernel import probe
from moderation.models import AlertEvent, AlertRule, TestRun
from moderation.services import lifecycle, runs, suites
from moderation.tasks.periodic import (
    decision_records_prune_nightly,
    fleet_alerts_evaluate,
    review_leases_sweep,
    stale_runs_sweep,
)
from policy_admin.fleet.services import fleet_token_create
from policy_admin.models import Channel, FleetInstance
from policy_admin.services.publishing import channel_promote, policy_publish
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import KeywordRuleSetFactory
from tests.worker import ROOT

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fleet_isolated", "alerts_delivered_here"),
]


def test_beat_sends_its_tasks_every_minute_and_the_prune_nightly():
    schedule = app.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} == {
        fleet_alerts_evaluate.name,
        stale_runs_sweep.name,
        review_leases_sweep.name,
        decision_records_prune_nightly.name,
    }
    every_minute = [
        e for e in schedule.values() if e["task"] != decision_records_prune_nightly.name
    ]
    assert {entry["schedule"] for entry in every_minute} == {60.0}
    nightly = schedule["decision-records-prune"]["schedule"]
    assert (nightly.hour, nightly.minute) == ({3}, {17})


def test_a_beat_process_starts_keeps_its_schedule_in_the_data_dir_and_answers_its_probe(
    tmp_path, monkeypatch
):
    state = tmp_path / "state"
    monkeypatch.setenv("MODERATION_WORKER_STATE_DIR", str(state))
    env = {**os.environ, "MODERATION_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "beat.log"
    with log.open("w") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not (state / "beat").exists():
            assert beat.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert probe.main(["beat"]) == 0
        assert list((tmp_path / "data").glob("celerybeat-schedule*"))
        assert not (state / "ready").exists()  # the worker's files are not beat's
    finally:
        beat.terminate()
        beat.wait(timeout=30)


# Fleet rules ---------------------------------------------------------------


def publish(policy, editor, number):
    policy.refresh_from_db()
    version = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    channel_promote(policy=policy, actor=editor, channel="production", number=number)
    return version


@pytest.fixture
def fleet_rule(tenant, v1):
    return AlertRule.objects.create(
        tenant=tenant,
        name="Production fleet",
        kind=AlertRule.Kind.FLEET,
        email_to="oncall@example.com",
        policy=v1.policy,
        params={"channel": "production", "minutes": 10},
    )


@pytest.fixture
def report(client, tenant, admin):
    """POST a status report to the real fleet API with a token of `tenant` (or another)."""
    secrets = {}

    def send(instance_id, version, rejected=None, token_tenant=tenant, actor=admin):
        if token_tenant.pk not in secrets:
            secrets[token_tenant.pk] = fleet_token_create(
                tenant=token_tenant, actor=actor, name="fleet"
            )[1]
        entry = {"policy": "default", "channel": "production"}
        entry |= {"version": version.number, "sha256": version.sha256, "last_rejected": rejected}
        response = client.post(
            reverse("fleet-status"),
            {"instance_id": instance_id, "bundles": [entry]},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secrets[token_tenant.pk]}",
        )
        assert response.status_code == 204

    return send


def age(minutes, **filters):
    FleetInstance.objects.filter(**filters).update(
        last_seen=timezone.now() - dt.timedelta(minutes=minutes)
    )


def evaluate(capture):
    with capture(execute=True):
        fleet_alerts_evaluate.apply()


def test_a_server_silent_past_the_limit_fires_once_and_resolves_when_it_reports(
    fleet_rule, v1, report, django_capture_on_commit_callbacks
):
    report("gpu-1", v1)
    report("gpu-2", v1)
    evaluate(django_capture_on_commit_callbacks)
    age(9, instance_id="gpu-1")
    evaluate(django_capture_on_commit_callbacks)
    assert not AlertEvent.objects.exists()

    age(11, instance_id="gpu-1")
    evaluate(django_capture_on_commit_callbacks)
    evaluate(django_capture_on_commit_callbacks)
    (event,) = AlertEvent.objects.all()
    assert event.state == AlertRule.State.FIRING
    assert event.message == (
        "Fleet servers of “default” channel “production” need attention: "
        "gpu-1 has not reported for 11 min."
    )
    assert len(mail.outbox) == 1

    report("gpu-1", v1)
    evaluate(django_capture_on_commit_callbacks)
    fleet_rule.refresh_from_db()
    assert fleet_rule.state == AlertRule.State.OK
    assert AlertEvent.objects.count() == 2
    assert "OK" in mail.outbox[1].subject


def test_a_server_refusing_the_current_version_fires_after_the_limit(
    fleet_rule, v1, editor, report, django_capture_on_commit_callbacks
):
    policy = v1.policy
    KeywordRuleSetFactory(policy=policy, name="More")
    policy.revision += 1
    policy.save(update_fields=["revision"])
    v2 = publish(policy, editor, 2)
    refused = {"version": 2, "sha256": v2.sha256, "reason": "bad_signature", "message": "no key"}
    report("gpu-1", v1, rejected=refused)
    evaluate(django_capture_on_commit_callbacks)
    assert not AlertEvent.objects.exists()  # promoted moments ago

    Channel.objects.update(updated_at=timezone.now() - dt.timedelta(minutes=15))
    evaluate(django_capture_on_commit_callbacks)
    (event,) = AlertEvent.objects.all()
    assert "gpu-1 refuses version 2 (bad_signature)" in event.message

    report("gpu-1", v2)
    evaluate(django_capture_on_commit_callbacks)
    fleet_rule.refresh_from_db()
    assert fleet_rule.state == AlertRule.State.OK


def test_another_tenants_silent_server_does_not_fire_this_tenants_rule(
    fleet_rule, v1, report, other_tenant, outsider, django_capture_on_commit_callbacks
):
    report("gpu-1", v1)
    report("gpu-9", v1, token_tenant=other_tenant, actor=outsider)
    age(30, tenant=other_tenant)
    evaluate(django_capture_on_commit_callbacks)
    fleet_rule.refresh_from_db()
    assert fleet_rule.state == AlertRule.State.OK
    assert not AlertEvent.objects.exists()


# The sweep of silent runs ---------------------------------------------------


def silence(run, seconds):
    TestRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=seconds)
    )


def test_the_sweep_fails_a_silent_live_test_and_requeues_a_silent_suite(
    tenant, policy, editor, queued, settings, django_capture_on_commit_callbacks
):
    settings.MODERATION_RUN_STALE_SECONDS = 45
    sample_set = SampleSetFactory(tenant=tenant)
    SampleFactory(sample_set=sample_set)
    with django_capture_on_commit_callbacks(execute=True):
        live = runs.live_test_start(policy=policy, actor=editor, prompt="a cat")
        fresh = runs.live_test_start(policy=policy, actor=editor, prompt="a dog")
        suite = suites.suite_start(sample_set=sample_set, policy=policy, actor=editor)
    for run, worker in ((live, "gpu0"), (fresh, "gpu0"), (suite, "gpu1")):
        lifecycle.run_claim(run_id=run.pk, kind=run.kind, worker=worker)
    silence(live, 60)
    silence(fresh, 10)
    silence(suite, 60)
    queued.clear()

    with django_capture_on_commit_callbacks(execute=True):
        counts = stale_runs_sweep.apply().get()

    assert counts == {"failed": 1, "requeued": 1}
    live.refresh_from_db()
    assert live.status == TestRun.Status.FAILED
    assert "stopped answering" in live.error
    fresh.refresh_from_db()
    assert fresh.status == TestRun.Status.RUNNING
    suite.refresh_from_db()
    assert suite.status == TestRun.Status.PENDING
    assert queued == [suite.pk]
    assert lifecycle.run_claim(run_id=suite.pk, kind=suite.kind, worker="gpu2").attempts == 2


# The nightly prune of decision records ------------------------------------------


def test_the_prune_deletes_records_past_each_tenants_retention_and_keeps_the_rest(
    v1, other_tenant, outsider, monkeypatch
):
    from moderation.models import DecisionRecord, ProductionSettings, ReviewItem
    from moderation.services import retention
    from tests.moderation.production_factories import DecisionRecordFactory, ReviewItemFactory
    from tests.policy_admin.factories import PolicyFactory

    their_policy = PolicyFactory(tenant=other_tenant, slug="default")
    KeywordRuleSetFactory(policy=their_policy)
    theirs = policy_publish(policy=their_policy, actor=outsider, revision=their_policy.revision)
    ProductionSettings.objects.create(tenant=other_tenant, retention_days=7)
    now = timezone.now()

    def record(version, days):
        return DecisionRecordFactory(version=version, decided_at=now - dt.timedelta(days=days))

    monkeypatch.setattr(retention, "PRUNE_CHUNK", 2)  # several chunks
    old = [record(v1, 31) for _ in range(3)]
    ReviewItemFactory(record=old[0])
    kept = record(v1, 29)
    their_old, their_kept = record(theirs, 8), record(theirs, 6)

    assert decision_records_prune_nightly.apply().get() == {"acme": 3, "globex": 1}

    assert set(DecisionRecord.objects.values_list("pk", flat=True)) == {kept.pk, their_kept.pk}
    assert not ReviewItem.objects.exists()  # went with its record
    assert their_old.pk not in {r.pk for r in DecisionRecord.objects.all()}
