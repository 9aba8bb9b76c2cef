"""The Prometheus endpoint: protected, and exposing the named series after real work."""

import pytest

from tests.tenants.factories import UserFactory

pytestmark = pytest.mark.django_db

SERIES = [
    "django_http_requests_latency_seconds_by_view_method",
    "moderation_task_duration_seconds",
    "moderation_queue_depth",
]


@pytest.fixture
def token(settings):
    settings.MODERATION_METRICS_TOKEN = "scrape-me-please"
    return "scrape-me-please"


def test_metrics_need_the_token_or_staff(client, token, editor):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    client.force_login(editor)
    assert client.get("/metrics").status_code == 403
    client.force_login(UserFactory(username="ops", is_staff=True))
    assert client.get("/metrics").status_code == 200


def test_series_appear_after_requests_and_tasks(client, token, editor):
    from moderation.tasks.system import ping

    client.force_login(editor)
    client.get("/t/acme/")
    ping.apply(args=["default"])
    body = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).content.decode()
    for name in SERIES:
        assert name in body, name
    assert 'moderation_task_duration_seconds_count{task="moderation.tasks.system.ping"}' in body
    assert 'view="tenant-dashboard"' in body


def test_evaluations_are_counted_by_policy_and_action():
    from moderation import telemetry

    decision = {"action": "block", "timings_ms": {"embed": 12.0, "concepts": 0.0}}
    before = telemetry.EVALUATIONS.labels(policy="acme/default", action="block")._value.get()
    telemetry.record_decisions("acme/default", [decision], "cpu")
    after = telemetry.EVALUATIONS.labels(policy="acme/default", action="block")._value.get()
    assert after == before + 1


def test_responses_carry_a_request_id(client):
    response = client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32
    given = "0123456789abcdef0123456789abcdef"
    assert client.get("/healthz", headers={"X-Request-ID": given})["X-Request-ID"] == given
