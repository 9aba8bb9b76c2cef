"""The Prometheus endpoint: protected, and exposing the named series after real work."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from policy_admin.fleet.services import fleet_token_create
from policy_admin.models import FleetInstance
from tests.tenants.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fleet_isolated")]

SERIES = [
    "django_http_requests_latency_seconds_by_view_method",
    "moderation_task_duration_seconds",
    "moderation_queue_depth",
]


@pytest.fixture
def token(settings):
    settings.MODERATION_METRICS_TOKEN = "scrape-me-please"
    return "scrape-me-please"


# /metrics is spelled out, not reversed: it is the scrape path docs/operations.md gives Prometheus.
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
    client.get(reverse("tenant-dashboard", kwargs={"tenant": "acme"}))
    ping.apply(args=["default"])
    body = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).content.decode()
    for name in SERIES:
        assert name in body, name
    assert 'moderation_task_duration_seconds_count{task="moderation.tasks.system.ping"}' in body
    assert 'view="tenant-dashboard"' in body


def test_evaluations_are_counted_by_policy_and_action():
    from kernel import telemetry

    decision = {"action": "block", "timings_ms": {"embed": 12.0, "concepts": 0.0}}
    before = telemetry.EVALUATIONS.labels(policy="acme/default", action="block")._value.get()
    telemetry.record_decisions("acme/default", [decision], "cpu")
    after = telemetry.EVALUATIONS.labels(policy="acme/default", action="block")._value.get()
    assert after == before + 1


def test_responses_carry_a_request_id(client):
    response = client.get(reverse("healthz"))
    assert len(response["X-Request-ID"]) == 32
    given = "0123456789abcdef0123456789abcdef"
    assert client.get(reverse("healthz"), headers={"X-Request-ID": given})["X-Request-ID"] == given


def scrape(client, token) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    body = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def fetches(samples, status: str) -> float:
    return samples.get(("moderation_bundle_fetches_total", (("status", status),)), 0.0)


def test_bundle_fetches_and_fleet_states_after_real_fleet_requests(
    client, token, tenant, admin, v1
):
    bearer = f"Bearer {fleet_token_create(tenant=tenant, actor=admin, name='eu')[1]}"
    before = scrape(client, token)

    url = reverse("fleet-channel-bundle", kwargs={"policy": "default", "channel": "production"})
    assert client.get(url, HTTP_AUTHORIZATION=bearer).status_code == 200
    etag = f'"{v1.sha256}"'
    assert client.get(url, HTTP_AUTHORIZATION=bearer, HTTP_IF_NONE_MATCH=etag).status_code == 304
    refused = {"version": 1, "sha256": v1.sha256, "reason": "bad_signature"}
    for instance, sha256, rejected in [
        ("current", v1.sha256, None),
        ("behind", "0" * 64, None),
        ("rejecting", None, refused),
        ("silent", v1.sha256, None),
    ]:
        entry = {"policy": "default", "channel": "production", "sha256": sha256}
        response = client.post(
            reverse("fleet-status"),
            {"instance_id": instance, "bundles": [{**entry, "last_rejected": rejected}]},
            content_type="application/json",
            HTTP_AUTHORIZATION=bearer,
        )
        assert response.status_code == 204
    FleetInstance.objects.filter(instance_id="silent").update(
        last_seen=timezone.now() - dt.timedelta(hours=1)
    )

    after = scrape(client, token)
    assert fetches(after, "200") - fetches(before, "200") == 1
    assert fetches(after, "304") - fetches(before, "304") == 1
    states = {
        dict(labels)["state"]: value
        for (name, labels), value in after.items()
        if name == "moderation_fleet_servers"
    }
    assert states == {"current": 1, "behind": 1, "rejecting": 1, "stale": 1}
