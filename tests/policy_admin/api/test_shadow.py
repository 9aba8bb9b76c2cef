"""Shadow mode on a channel (docs/fleet.md): set, change, stop, promote; refusals; fleet headers."""

import pytest
from django.urls import reverse

from policy_admin.fleet.services import fleet_token_create
from policy_admin.models import AuditEvent, Channel
from policy_admin.services.publishing import policy_publish
from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def shadow_url(policy="default", channel="production", tenant="acme", name="policy-channel-shadow"):
    return reverse(name, kwargs={"tenant": tenant, "policy": policy, "channel": channel})


@pytest.fixture
def v2(policy, v1, editor):
    """A stricter second version of the default policy, published, not promoted."""
    KeywordRuleSetFactory(policy=policy, name="Weapons", terms="gun", term_count=1)
    policy.refresh_from_db()
    policy.revision += 1  # as the editor's save would
    policy.save(update_fields=["revision"])
    return policy_publish(policy=policy, actor=editor, revision=policy.revision)


@pytest.fixture
def publisher(api_client, editor):
    api_client.force_authenticate(editor)
    return api_client


def test_a_publisher_sets_changes_and_stops_a_shadow_and_each_step_is_audited(publisher, v2):
    response = publisher.put(shadow_url(), {"version": 2, "rate_percent": 10}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["enforced_version"], body["shadow_version"], body["rate_percent"]) == (1, 2, 10)
    assert body["older_than_enforced"] is False
    assert Channel.objects.get(name="production").shadow_rate == pytest.approx(0.1)
    changed = publisher.put(
        shadow_url(),
        {"version": 2, "rate_percent": 100, "guard_points": 5, "guard_requests": 500},
        format="json",
    )
    assert changed.json()["guard_requests"] == 500
    stopped = publisher.delete(shadow_url())
    assert stopped.json()["shadow_version"] is None
    summaries = list(
        AuditEvent.objects.filter(target_type="shadow")
        .order_by("id")
        .values_list("verb", "summary")
    )
    assert [verb for verb, _ in summaries] == ["create", "update", "delete"]
    assert "v2 on 10% of requests" in summaries[0][1]


def test_promote_moves_the_channel_and_ends_the_shadow(publisher, v2):
    publisher.put(shadow_url(), {"version": 2, "rate_percent": 50}, format="json")
    response = publisher.post(shadow_url(name="policy-channel-shadow-promote"))
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    channel = Channel.objects.get(name="production")
    assert (channel.version.number, channel.shadow_version) == (2, None)
    assert AuditEvent.objects.filter(verb="promote", summary__contains="from shadow").exists()


@pytest.mark.parametrize("rate", [-1, 101])
def test_a_rate_outside_0_to_100_is_a_400(publisher, v2, rate):
    response = publisher.put(shadow_url(), {"version": 2, "rate_percent": rate}, format="json")
    assert response.status_code == 400
    assert "rate_percent" in str(response.json())


def test_a_version_of_another_policy_is_a_400(publisher, v2, tenant, editor):
    other = PolicyFactory(tenant=tenant, name="Other", slug="other")
    KeywordRuleSetFactory(policy=other, name="Spam", terms="spam", term_count=1)
    for _ in range(3):  # "other" gets v1..v3; "default" has no v3
        policy_publish(policy=other, actor=editor, revision=other.revision)
        other.refresh_from_db()
        other.revision += 1
        other.save(update_fields=["revision"])
    response = publisher.put(shadow_url(), {"version": 3, "rate_percent": 10}, format="json")
    assert response.status_code == 400
    assert "has no version 3" in response.json()["message"]


def test_an_older_version_may_be_shadowed_and_is_shown_as_older(publisher, policy, v2, editor):
    from policy_admin.services.publishing import channel_promote

    channel_promote(policy=policy, actor=editor, channel="production", number=2)
    response = publisher.put(shadow_url(), {"version": 1, "rate_percent": 5}, format="json")
    assert response.status_code == 200
    assert response.json()["older_than_enforced"] is True
    event = AuditEvent.objects.get(target_type="shadow")
    assert "older than the enforced version" in event.summary


def test_shadowing_the_enforced_version_or_half_a_guard_is_refused(publisher, v2):
    same = publisher.put(shadow_url(), {"version": 1, "rate_percent": 5}, format="json")
    assert "already enforces v1" in same.json()["message"]
    half = publisher.put(
        shadow_url(), {"version": 2, "rate_percent": 5, "guard_points": 3}, format="json"
    )
    assert half.status_code == 400
    assert "both" in half.json()["message"]


def test_stop_and_promote_without_a_shadow_say_so(publisher, v1):
    assert "no shadow to stop" in publisher.delete(shadow_url()).json()["message"]
    promote = publisher.post(shadow_url(name="policy-channel-shadow-promote"))
    assert "no shadow to promote" in promote.json()["message"]


def test_a_viewer_cannot_set_a_shadow(api_client, viewer, v2):
    api_client.force_authenticate(viewer)
    response = api_client.put(shadow_url(), {"version": 2, "rate_percent": 5}, format="json")
    assert response.status_code == 403
    assert api_client.get(shadow_url()).status_code == 200


def test_another_tenants_channel_is_a_404(api_client, outsider, v2):
    api_client.force_authenticate(outsider)
    assert api_client.get(shadow_url()).status_code == 404
    put = api_client.put(shadow_url(), {"version": 2, "rate_percent": 5}, format="json")
    assert put.status_code == 404


def test_the_channel_bundle_names_the_shadow_on_200_and_304(
    client, publisher, v2, tenant, admin, django_capture_on_commit_callbacks
):
    secret = fleet_token_create(tenant=tenant, actor=admin, name="fleet")[1]
    path = "/api/v1/fleet/policies/default/channels/production/bundle"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert "X-Shadow-Version" not in client.get(path, **auth)
    with django_capture_on_commit_callbacks(execute=True):  # the cached pointer is dropped
        publisher.put(shadow_url(), {"version": 2, "rate_percent": 25}, format="json")
    full = client.get(path, **auth)
    assert (full["X-Shadow-Version"], full["X-Shadow-Sha256"]) == ("2", v2.sha256)
    assert full["X-Shadow-Rate"] == "0.25"
    cached = client.get(path, HTTP_IF_NONE_MATCH=full["ETag"], **auth)
    assert cached.status_code == 304
    assert cached["X-Shadow-Version"] == "2"
    with django_capture_on_commit_callbacks(execute=True):
        publisher.delete(shadow_url())
    assert "X-Shadow-Version" not in client.get(path, **auth)
