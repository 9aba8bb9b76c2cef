"""Alerts fire once when their condition turns true, resolve once, and are delivered signed."""

import hashlib
import hmac
import json

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from moderation.models import AlertEvent, AlertRule
from moderation.services.alert_delivery import signature
from moderation.services.alerts import alert_observe
from tests.moderation.factories import SampleSetFactory
from tests.policy_admin.factories import PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alerts_delivered_here")]


@pytest.fixture
def rule(tenant, receiver):
    url, _ = receiver
    return AlertRule.objects.create(
        tenant=tenant,
        name="Recall on kids set",
        kind=AlertRule.Kind.METRIC_BELOW,
        policy=PolicyFactory(tenant=tenant),
        sample_set=SampleSetFactory(tenant=tenant, name="Kids"),
        email_to="oncall@example.com\n",
        webhook_url=url,
    )


def test_fires_once_however_often_the_condition_is_seen(
    rule, receiver, django_capture_on_commit_callbacks
):
    _, received = receiver
    with django_capture_on_commit_callbacks(execute=True):
        first = alert_observe(rule=rule, firing=True, message="recall 0.71 < 0.80")
        again = alert_observe(rule=rule, firing=True, message="recall 0.70 < 0.80")
    assert first is not None
    assert again is None
    assert AlertEvent.objects.count() == 1
    assert len(mail.outbox) == 1
    assert "Recall on kids set: Firing" in mail.outbox[0].subject
    assert len(received) == 1


def test_resolves_once(rule, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alert_observe(rule=rule, firing=True, message="down")
        resolved = alert_observe(rule=rule, firing=False, message="back to 0.85")
        alert_observe(rule=rule, firing=False, message="still fine")
    assert resolved.state == AlertRule.State.OK
    assert list(AlertEvent.objects.values_list("state", flat=True)) == ["ok", "firing"]


def test_webhook_payload_is_signed_with_the_rules_secret(
    rule, receiver, django_capture_on_commit_callbacks
):
    _, received = receiver
    with django_capture_on_commit_callbacks(execute=True):
        alert_observe(rule=rule, firing=True, message="recall 0.71 < 0.80")
    headers, body = received[0]
    expected = "sha256=" + hmac.new(rule.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected == signature(rule.webhook_secret, body)
    data = json.loads(body)
    assert (data["tenant"], data["state"], data["message"]) == (
        "acme",
        "firing",
        "recall 0.71 < 0.80",
    )
    event = AlertEvent.objects.get()
    assert [d["ok"] for d in event.deliveries] == [True, True]


def test_an_unreachable_webhook_is_recorded_not_raised(rule, django_capture_on_commit_callbacks):
    rule.webhook_url = "http://127.0.0.1:1/nothing-listens"
    rule.save()
    with django_capture_on_commit_callbacks(execute=True):
        alert_observe(rule=rule, firing=True, message="x")
    webhook = next(d for d in AlertEvent.objects.get().deliveries if d["channel"] == "webhook")
    assert webhook["ok"] is False
    assert webhook["error"]


def test_a_disabled_rule_stays_quiet(rule):
    rule.enabled = False
    rule.save()
    assert alert_observe(rule=rule, firing=True, message="x") is None
    assert not AlertEvent.objects.exists()


def test_a_rule_goes_with_the_sample_set_it_watches(rule):
    rule.sample_set.delete()
    assert not AlertRule.objects.exists()


def test_a_rule_goes_with_the_policy_it_watches(rule):
    rule.policy.delete()
    assert not AlertRule.objects.exists()


def test_a_rule_that_watches_nothing_cannot_be_on(rule):
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertRule.objects.filter(pk=rule.pk).update(sample_set=None)
    AlertRule.objects.filter(pk=rule.pk).update(sample_set=None, enabled=False)
