"""Alert events are delivered by a worker on the `default` queue, after their change commits."""

import time

import pytest

from moderation.models import AlertEvent, AlertRule
from moderation.services.alerts import alert_observe
from tests.moderation.factories import SampleSetFactory
from tests.policy_admin.factories import PolicyFactory

pytestmark = pytest.mark.worker


def test_alert_delivery_is_routed_to_the_default_queue():
    from config.celery import app

    route = app.amqp.router.route({}, "moderation.tasks.alerts.alert_deliver")
    assert route["queue"].name == "default"


def test_a_worker_delivers_the_event_after_the_change_commits(
    celery_worker_process, tenant, receiver
):
    url, received = receiver
    rule = AlertRule.objects.create(
        tenant=tenant,
        name="Recall",
        kind=AlertRule.Kind.METRIC_BELOW,
        policy=PolicyFactory(tenant=tenant),
        sample_set=SampleSetFactory(tenant=tenant),
        webhook_url=url,
    )

    event = alert_observe(rule=rule, firing=True, message="recall 0.71 < 0.80")

    deadline = time.monotonic() + 60
    while not AlertEvent.objects.get(pk=event.pk).deliveries and time.monotonic() < deadline:
        time.sleep(0.2)
    deliveries = AlertEvent.objects.get(pk=event.pk).deliveries
    assert [(d["channel"], d["ok"]) for d in deliveries] == [("webhook", True)]
    assert len(received) == 1
    assert b"recall 0.71 < 0.80" in received[0][1]
