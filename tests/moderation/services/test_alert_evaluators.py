"""metric_below rules are judged after every real suite run of their policy and sample set."""

import json
import logging

import pytest
from django.core import mail

from moderation.models import AlertEvent, AlertRule, TestRun
from moderation.services import suites
from moderation.services.samples import sample_set_update
from moderation.tasks.gpu import suite_run_execute
from policy_admin.services.policies import policy_update
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued", "alerts_delivered_here")]


@pytest.fixture
def sample_set(tenant):
    """4 caught blocks, 4 allows, one false positive, one block the policy misses: recall 0.8."""
    sample_set = SampleSetFactory(tenant=tenant, name="Kids")
    for i in range(4):
        SampleFactory(sample_set=sample_set, prompt=f"forbidden thing {i}", expected_action="block")
        SampleFactory(sample_set=sample_set, prompt=f"a kitten {i}", expected_action="allow")
    SampleFactory(sample_set=sample_set, prompt="forbidden but fine")
    SampleFactory(sample_set=sample_set, prompt="subtle", expected_action="block")
    return sample_set


def metric_rule(policy, sample_set, webhook_url="", **params):
    return AlertRule.objects.create(
        tenant=policy.tenant,
        name=f"Rule {AlertRule.objects.count()}",
        kind=AlertRule.Kind.METRIC_BELOW,
        policy=policy,
        sample_set=sample_set,
        email_to="oncall@example.com",
        webhook_url=webhook_url,
        params={
            "metric": "recall",
            "outcome": "block",
            "minimum": 0.9,
            **params,
        },
    )


@pytest.fixture
def finished_suite(policy, sample_set, editor, django_capture_on_commit_callbacks):
    """Run a real suite of the policy's current draft (it blocks "forbidden") on the set."""
    KeywordRuleSetFactory(policy=policy, terms="forbidden", term_count=1, action="block")

    def run() -> TestRun:
        with django_capture_on_commit_callbacks(execute=True):
            started = suites.suite_start(sample_set=sample_set, policy=policy, actor=editor)
        with django_capture_on_commit_callbacks(execute=True):
            suite_run_execute(started.pk)
        started.refresh_from_db()
        assert started.status == TestRun.Status.SUCCEEDED, started.error
        return started

    return run


def test_a_run_below_the_floor_fires_once_and_a_good_run_resolves_it(
    policy, sample_set, receiver, finished_suite
):
    url, received = receiver
    rule = metric_rule(policy, sample_set, webhook_url=url)

    bad = finished_suite()
    rule.refresh_from_db()
    assert rule.state == AlertRule.State.FIRING
    (event,) = AlertEvent.objects.all()
    assert event.message == (
        f"Suite run #{bad.pk} of policy “default” on sample set “Kids”: "
        "recall (block vs not) is 0.8000, below the floor 0.9000."
    )
    assert len(mail.outbox) == 1
    assert json.loads(received[0][1])["state"] == "firing"

    finished_suite()
    assert AlertEvent.objects.count() == 1
    assert len(mail.outbox) == 1

    KeywordRuleSetFactory(policy=policy, name="Subtle", terms="subtle", term_count=1)
    good = finished_suite()
    rule.refresh_from_db()
    assert rule.state == AlertRule.State.OK
    assert AlertEvent.objects.first().message == (
        f"Suite run #{good.pk} of policy “default” on sample set “Kids”: "
        "recall (block vs not) is 1.0000, at or above the floor 0.9000."
    )
    assert [json.loads(body)["state"] for _, body in received] == ["firing", "ok"]
    assert [m.subject for m in mail.outbox] == [
        "[Acme Images] Rule 0: Firing",
        "[Acme Images] Rule 0: OK",
    ]


@pytest.mark.parametrize(
    ("params", "fires"),
    [
        ({"metric": "precision", "minimum": 0.85}, True),  # block precision 0.8
        ({"metric": "f1", "minimum": 0.75}, False),  # block F1 0.8
        ({"metric": "recall", "outcome": "flag_or_worse", "minimum": 0.85}, True),  # 4 of 5
    ],
)
def test_each_metric_and_outcome_is_read_from_the_run(
    policy, sample_set, finished_suite, params, fires
):
    rule = metric_rule(policy, sample_set, **params)
    finished_suite()
    rule.refresh_from_db()
    assert AlertEvent.objects.filter(rule=rule).exists() is fires


def test_rules_of_other_policies_sets_and_tenants_are_left_alone(
    tenant, other_tenant, policy, sample_set, finished_suite
):
    others = [
        metric_rule(PolicyFactory(tenant=tenant, slug="kids-app"), sample_set),
        metric_rule(policy, SampleSetFactory(tenant=tenant, name="Adults")),
        metric_rule(
            PolicyFactory(tenant=other_tenant, slug="default"),
            SampleSetFactory(tenant=other_tenant, name="Kids"),
        ),
    ]
    finished_suite()
    for rule in others:
        rule.refresh_from_db()
        assert rule.state == AlertRule.State.OK
    assert not AlertEvent.objects.exists()


def test_a_failing_evaluation_is_logged_and_the_run_still_succeeds(
    policy, sample_set, finished_suite, monkeypatch, caplog
):
    metric_rule(policy, sample_set)

    def broken(**kwargs):
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr("moderation.services.alert_evaluators.alert_observe", broken)
    with caplog.at_level(logging.ERROR, logger="moderation.services.alert_evaluators"):
        run = finished_suite()
    assert run.status == TestRun.Status.SUCCEEDED
    assert f"after run {run.pk} could not be evaluated" in caplog.text


def test_renaming_the_policy_and_the_sample_set_keeps_the_rule_watching(
    policy, sample_set, editor, finished_suite
):
    rule = metric_rule(policy, sample_set)
    policy_update(policy=policy, actor=editor, revision=policy.revision, slug="renamed")
    sample_set_update(sample_set=sample_set, name="Kids, renamed", description="")
    run = finished_suite()
    rule.refresh_from_db()
    assert rule.state == AlertRule.State.FIRING
    assert AlertEvent.objects.get().message.startswith(
        f"Suite run #{run.pk} of policy “renamed” on sample set “Kids, renamed”: "
    )
