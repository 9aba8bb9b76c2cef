"""Drift alert rules: evaluated when a suite finishes, fire once, resolve once, never fail a run."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from moderation.models import AlertEvent, AlertRule, TestRun
from moderation.services import alert_drift as drift_evaluator
from moderation.services import suites
from moderation.services.alert_drift import drift_alerts_after_run
from policy_admin.services.policies import policy_update
from tests.moderation.factories import SampleResultFactory, SampleSetFactory, SuiteRunFactory
from tests.policy_admin.factories import PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alerts_delivered_here")]

CALM = [0.05, 0.1, 0.1, 0.15, 0.2, 0.2, 0.25, 0.3]
SHIFTED = [0.6, 0.65, 0.7, 0.7, 0.8, 0.85, 0.9, 0.95]


@pytest.fixture
def sample_set(tenant):
    return SampleSetFactory(tenant=tenant)


def watch(policy, name="Drift on default", **params):
    return AlertRule.objects.create(
        tenant=policy.tenant,
        name=name,
        kind=AlertRule.Kind.DRIFT,
        policy=policy,
        params={"baseline": "previous", "psi": 0.25, **params},
        email_to="oncall@example.com",
    )


def finished_suite(policy, sample_set, scores, minutes_ago=0, **fields):
    """A suite whose samples got these violence scores (results built with factories)."""
    run = SuiteRunFactory(
        policy=policy,
        sample_set=sample_set,
        finished_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )
    samples = list(sample_set.samples.order_by("id"))
    for i, score in enumerate(scores):
        rule = {
            "kind": "category", "rule_id": "violence:prompt", "rule_name": "violence (policy)",
            "modality": "prompt", "action": "review", "fired": score >= 0.5, "score": score,
            "threshold": 0.5, "explanation": {"category": "violence"},
        }  # fmt: skip
        decision = {"action": "allow", "results": [rule], "timings_ms": {"total": 1.0}}
        extra = {"sample": samples[i]} if i < len(samples) else {}
        SampleResultFactory(run=run, decision=decision, **extra)
    return run


def test_a_drift_rule_fires_once_and_resolves_once(
    policy, sample_set, django_capture_on_commit_callbacks
):
    watch(policy)
    with django_capture_on_commit_callbacks(execute=True):
        first = finished_suite(policy, sample_set, CALM, minutes_ago=30)
        drift_alerts_after_run(first)  # nothing before it: nothing to compare
        assert not AlertEvent.objects.exists()

        shifted = finished_suite(policy, sample_set, SHIFTED, minutes_ago=20)
        drift_alerts_after_run(shifted)
        drift_alerts_after_run(shifted)  # seen again: still one event
        (fired,) = AlertEvent.objects.all()
        assert fired.state == AlertRule.State.FIRING
        assert f"suite #{shifted.pk} against suite #{first.pk}" in fired.message
        assert "violence (prompt) (PSI " in fired.message

        steady = finished_suite(policy, sample_set, SHIFTED, minutes_ago=10)
        drift_alerts_after_run(steady)
    resolved = AlertEvent.objects.first()
    assert resolved.state == AlertRule.State.OK
    assert "no category or concept score drifted past PSI 0.25" in resolved.message
    assert AlertEvent.objects.count() == 2
    assert [m.subject for m in mail.outbox] == [
        "[Acme Images] Drift on default: Firing",
        "[Acme Images] Drift on default: OK",
    ]


def test_a_fixed_baseline_other_policies_and_disabled_rules(policy, sample_set):
    fixed_to_calm = watch(policy, name="Against the first")
    other = watch(PolicyFactory(tenant=policy.tenant, slug="kids"), name="Other policy")
    disabled = watch(policy, name="Disabled")
    AlertRule.objects.filter(pk=disabled.pk).update(enabled=False)
    first = finished_suite(policy, sample_set, CALM, minutes_ago=30)
    fixed_to_calm.params["baseline"] = str(first.pk)
    fixed_to_calm.save()
    finished_suite(policy, sample_set, SHIFTED, minutes_ago=20)
    latest = finished_suite(policy, sample_set, SHIFTED, minutes_ago=10)
    drift_alerts_after_run(latest)  # against the first (calm) run, not the one before it
    assert AlertEvent.objects.get().rule == fixed_to_calm
    for rule in (other, disabled):
        rule.refresh_from_db()
        assert rule.state == AlertRule.State.OK


def running_suite(policy, sample_set, scores):
    run = finished_suite(policy, sample_set, scores, status=TestRun.Status.RUNNING)
    TestRun.objects.filter(pk=run.pk).update(finished_at=None)
    run.refresh_from_db()
    return run


def test_finishing_a_suite_evaluates_the_drift_rules(policy, sample_set):
    rule = watch(policy)
    finished_suite(policy, sample_set, CALM, minutes_ago=30)
    run = running_suite(policy, sample_set, SHIFTED)
    suites.suite_finish(run=run, bundle={"sha256": "a" * 64, "revision": 1})
    rule.refresh_from_db()
    assert rule.state == AlertRule.State.FIRING


def test_a_failing_alert_never_fails_the_suite(policy, sample_set, monkeypatch, caplog):
    def broken(baseline, current, **kwargs):
        raise RuntimeError("scores unreadable")

    rule = watch(policy)
    finished_suite(policy, sample_set, CALM, minutes_ago=30)
    monkeypatch.setattr(drift_evaluator.quality, "runs_drift", broken)
    run = running_suite(policy, sample_set, SHIFTED)
    with caplog.at_level(logging.ERROR):
        finished = suites.suite_finish(run=run, bundle={"sha256": "a" * 64, "revision": 1})
    assert finished.status == TestRun.Status.SUCCEEDED
    assert f"drift rule {rule.pk} after suite run {run.pk} could not be evaluated" in caplog.text


@pytest.mark.parametrize(
    ("baseline", "error"),
    [
        ("last", "Write “previous” or the number of a suite run."),
        ("999999", "Suite run #999999 is not a test suite of the policy “default”"),
    ],
)
def test_the_rule_form_checks_the_baseline(client, editor, policy, baseline, error):
    client.force_login(editor)
    response = client.post(
        reverse("alert-create", kwargs={"tenant": "acme"}),
        {
            "name": "Drift",
            "kind": "drift",
            "enabled": "on",
            "email_to": "oncall@example.com",
            "policy": policy.pk,
            "drift__baseline": baseline,
            "drift__psi": "0.25",
        },
    )
    assert response.status_code == 400
    assert error in response.content.decode()


def test_another_tenants_suite_cannot_be_a_baseline(client, editor, policy, other_tenant):
    theirs = SuiteRunFactory(policy=PolicyFactory(tenant=other_tenant, slug="default"))
    client.force_login(editor)
    response = client.post(
        reverse("alert-create", kwargs={"tenant": "acme"}),
        {
            "name": "Drift",
            "kind": "drift",
            "email_to": "oncall@example.com",
            "policy": policy.pk,
            "drift__baseline": str(theirs.pk),
            "drift__psi": "0.25",
        },
    )
    assert response.status_code == 400
    assert not AlertRule.objects.exists()


def test_a_renamed_policy_keeps_its_drift_rule(policy, sample_set, editor):
    rule = watch(policy)
    finished_suite(policy, sample_set, CALM, minutes_ago=30)
    policy_update(policy=policy, actor=editor, revision=policy.revision, slug="renamed")
    drift_alerts_after_run(finished_suite(policy, sample_set, SHIFTED, minutes_ago=20))
    rule.refresh_from_db()
    assert rule.state == AlertRule.State.FIRING


# Production against a suite ----------------------------------------------------


def audited_scores(version, scores):
    from tests.moderation.production_factories import DecisionRecordFactory

    for score in scores:
        DecisionRecordFactory(
            version=version,
            audited=True,
            inclusion_probability=0.01,
            reasons=["audit"],
            scores={"violence": score},
        )


def evaluate_beat(capture):
    from moderation.tasks.periodic import fleet_alerts_evaluate

    with capture(execute=True):
        fleet_alerts_evaluate.apply()


def test_production_scores_drifting_from_the_newest_suite_fire_and_calm_ones_resolve(
    v1, sample_set, django_capture_on_commit_callbacks
):
    policy = v1.policy
    rule = watch(policy, against="production")
    finished_suite(policy, sample_set, CALM)
    audited_scores(v1, SHIFTED)
    # Review-band records are not the audit stratum: their high scores are not counted.
    from tests.moderation.production_factories import DecisionRecordFactory

    DecisionRecordFactory(version=v1, scores={"violence": 0.99})

    evaluate_beat(django_capture_on_commit_callbacks)
    (event,) = AlertEvent.objects.all()
    assert event.state == AlertRule.State.FIRING
    assert "production (audited, last day) against suite #" in event.message
    assert "violence (PSI" in event.message

    from moderation.models import DecisionRecord

    DecisionRecord.objects.all().delete()
    audited_scores(v1, CALM)
    evaluate_beat(django_capture_on_commit_callbacks)
    rule.refresh_from_db()
    assert rule.state == AlertRule.State.OK


def test_a_production_rule_is_not_judged_when_a_suite_finishes(v1, sample_set):
    watch(v1.policy, against="production")
    finished_suite(v1.policy, sample_set, CALM, minutes_ago=5)
    drift_alerts_after_run(finished_suite(v1.policy, sample_set, SHIFTED))
    assert not AlertEvent.objects.exists()


def test_production_drift_keys_a_suite_category_by_its_highest_modality():
    from moderation.analysis.drift import production_scores

    def rule(kind, score, **fields):
        return {"kind": kind, "score": score, "explanation": {}, **fields}

    decision = {
        "results": [
            {**rule("category", 0.2), "explanation": {"category": "violence"}},
            {**rule("category", 0.7), "explanation": {"category": "violence"}},
            rule("concept", 0.4, rule_id="concept:3"),
            rule("keyword", 1.0, rule_id="keywords:1"),
        ]
    }
    assert production_scores([decision]) == {"violence": [0.7], "concept:3": [0.4]}
