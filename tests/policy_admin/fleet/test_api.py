"""The fleet API contract (docs/fleet.md): tokens, bundles, ETag/304, keys, status reports."""

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from policy_admin.bundles import signing
from policy_admin.fleet.services import fleet_token_create, fleet_token_revoke
from policy_admin.models import FleetInstance, FleetToken
from policy_admin.services.publishing import channel_promote, channel_rollback, policy_publish
from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret(tenant, admin):
    return fleet_token_create(tenant=tenant, actor=admin, name="fleet-eu")[1]


# This module spells the fleet API's paths out instead of reversing them: they are the
# contract docs/fleet.md publishes to inference servers, so a route that moves must fail here.
def url(policy="default", channel="production"):
    return f"/api/v1/fleet/policies/{policy}/channels/{channel}/bundle"


def get(client, path, secret, **headers):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {secret}", **headers)


def test_channel_bundle_is_the_canonical_bytes_with_contract_headers(client, v1, secret):
    response = get(client, url(), secret)
    assert response.status_code == 200
    assert response.content == bytes(v1.bundle)
    assert response["Content-Type"] == "application/vnd.moderation.bundle+json"
    assert response["ETag"] == f'"{v1.sha256}"'
    assert response["X-Bundle-Version"] == "1"
    assert response["X-Bundle-Sha256"] == v1.sha256
    assert response["Cache-Control"] == "no-cache"
    kid, _, signature = response["X-Bundle-Signatures"].partition("=")
    keys = {k["kid"]: k for k in client.get("/api/v1/fleet/keys").json()["keys"]}
    assert signing.verify(response.content, signature, keys[kid]["public_key"])


def test_version_bundle_is_immutable(client, v1, secret):
    response = get(client, "/api/v1/fleet/policies/default/versions/1/bundle", secret)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.content == bytes(v1.bundle)
    missing = get(client, "/api/v1/fleet/policies/default/versions/9/bundle", secret)
    assert missing.status_code == 404


def test_matching_etag_is_a_304_from_the_cache_with_no_build(
    client, v1, secret, monkeypatch, django_assert_max_num_queries
):
    def refuse(**kwargs):
        raise AssertionError("the 304 path must never build a bundle")

    monkeypatch.setattr("policy_admin.bundles.builder.bundle_build", refuse)
    get(client, url(), secret)  # fills the pointer cache
    with django_assert_max_num_queries(1):
        response = get(client, url(), secret, HTTP_IF_NONE_MATCH=f'"{v1.sha256}"')
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == f'"{v1.sha256}"'


def test_promote_invalidates_the_cached_pointer(
    client, policy, v1, editor, secret, django_capture_on_commit_callbacks
):
    get(client, url(), secret)
    policy.refresh_from_db()
    KeywordRuleSetFactory(policy=policy, name="More")
    policy.revision += 1
    policy.save(update_fields=["revision"])
    v2 = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    with django_capture_on_commit_callbacks(execute=True):
        channel_promote(policy=policy, actor=editor, channel="production", number=2)
    response = get(client, url(), secret, HTTP_IF_NONE_MATCH=f'"{v1.sha256}"')
    assert (response.status_code, response["X-Bundle-Version"]) == (200, "2")
    assert response["ETag"] == f'"{v2.sha256}"'


def test_rollback_serves_a_higher_number_with_the_old_rules(client, policy, v1, editor, secret):
    policy.refresh_from_db()
    KeywordRuleSetFactory(policy=policy, name="More")
    policy.revision += 1
    policy.save(update_fields=["revision"])
    policy_publish(policy=policy, actor=editor, revision=policy.revision)
    channel_promote(policy=policy, actor=editor, channel="production", number=2)
    channel_rollback(policy=policy, actor=editor, channel="production", number=1)
    response = get(client, url(), secret)
    assert response["X-Bundle-Version"] == "3"
    body = response.json()
    assert [k["name"] for k in body["keyword_sets"]] == ["Gore"]


def test_bundle_needs_no_session_and_no_csrf_for_status(client, secret):
    report = {"instance_id": "gpu-1", "labels": {}, "bundles": [], "models": {}}
    response = client.post(
        "/api/v1/fleet/status",
        report,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        enforce_csrf_checks=True,
    )
    assert response.status_code == 204


@pytest.mark.parametrize("kind", ["unknown", "revoked", "expired", "missing"])
def test_bad_tokens_are_401_with_a_message(client, v1, tenant, admin, kind):
    token, secret = fleet_token_create(tenant=tenant, actor=admin, name="t")
    if kind == "unknown":
        secret = FleetToken.PREFIX + "nope"
    elif kind == "revoked":
        fleet_token_revoke(token=token, actor=admin)
    elif kind == "expired":
        FleetToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(1))
    headers = {} if kind == "missing" else {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = client.get(url(), **headers)
    assert response.status_code == 401
    assert "fleet token" in response.json()["message"]


def test_token_without_scope_is_403(client, v1, policy, tenant, admin):
    other = PolicyFactory(tenant=tenant, slug="other")
    _, only_other = fleet_token_create(tenant=tenant, actor=admin, name="o", policies=[other])
    _, only_staging = fleet_token_create(tenant=tenant, actor=admin, name="s", channels=["staging"])
    assert get(client, url(), only_other).status_code == 403
    assert get(client, url(), only_staging).status_code == 403
    versions = "/api/v1/fleet/policies/default/versions/1/bundle"
    assert get(client, versions, only_other).status_code == 403
    assert get(client, versions, only_staging).status_code == 200


def test_other_tenants_policy_is_404(client, v1, other_tenant, outsider):
    _, theirs = fleet_token_create(tenant=other_tenant, actor=outsider, name="g")
    assert get(client, url(), theirs).status_code == 404
    assert (
        get(client, "/api/v1/fleet/policies/default/versions/1/bundle", theirs).status_code == 404
    )


def test_empty_channel_is_404_with_a_message(client, v1, secret):
    response = get(client, url(channel="staging"), secret)
    assert response.status_code == 404
    assert "no published version" in response.json()["message"]


def test_keys_are_public_at_both_addresses(client):
    for path in ("/api/v1/fleet/keys", "/.well-known/moderation-bundle-keys.json"):
        (key,) = client.get(path).json()["keys"]
        assert (key["alg"], key["status"]) == ("Ed25519", "active")
        assert len(base64.b64decode(key["public_key"])) == 32
        assert len(key["kid"]) == 16


def test_status_report_is_stored_per_instance(client, secret, tenant):
    report = {
        "instance_id": "gpu-1",
        "labels": {"region": "eu"},
        "bundles": [
            {
                "policy": "default",
                "channel": "production",
                "version": 1,
                "sha256": "a" * 64,
                "last_rejected": {
                    "version": 2,
                    "sha256": None,
                    "reason": "bad_signature",
                    "message": "no key verified it",
                },
            }
        ],
        "models": {"clip": {"name": "clip", "version": "1", "sha256": "b" * 64}},
    }
    for _ in range(2):
        response = client.post(
            "/api/v1/fleet/status",
            report,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert response.status_code == 204
    instance = FleetInstance.objects.get(tenant=tenant, instance_id="gpu-1")
    assert instance.labels == {"region": "eu"}
    assert instance.bundles[0]["last_rejected"]["reason"] == "bad_signature"
    assert FleetInstance.objects.count() == 1


def test_a_shadow_refusal_in_a_report_is_kept_and_shown_on_the_channel_page(
    client, secret, tenant, v1, admin
):
    report = {
        "instance_id": "gpu-2",
        "bundles": [
            {
                "policy": "default",
                "channel": "production",
                "version": 1,
                "sha256": v1.sha256,
                "shadow": {
                    "version": None,
                    "sha256": None,
                    "rate": 0.1,
                    "last_rejected": {"version": 2, "reason": "bad_signature", "message": "no key"},
                },
            }
        ],
    }
    response = client.post(
        "/api/v1/fleet/status",
        report,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 204
    stored = FleetInstance.objects.get(tenant=tenant, instance_id="gpu-2").bundles[0]
    assert stored["shadow"]["last_rejected"]["reason"] == "bad_signature"
    client.force_login(admin)
    page = client.get("/t/acme/policies/default/channels/production/").content.decode()
    assert "refused v2: <code>bad_signature</code>" in page


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"labels": {}},
        {"instance_id": "x", "bundles": [{"policy": 1}]},
        {"instance_id": "x", "bundles": [{"policy": "p", "channel": "c", "version": "2"}]},
        {"instance_id": "x", "bundles": [{"policy": "p", "channel": "c", "shadow": {"rate": 3}}]},
    ],
)
def test_malformed_status_report_is_400_with_a_message(client, secret, body):
    response = client.post(
        "/api/v1/fleet/status",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("The status report is not valid")


def test_token_use_is_recorded(client, v1, secret):
    get(client, url(), secret)
    assert FleetToken.objects.get().last_used_at is not None


def test_a_warm_304_needs_no_query_at_all(client, v1, secret):
    get(client, url(), secret)
    with CaptureQueriesContext(connection) as queries:
        response = get(client, url(), secret, HTTP_IF_NONE_MATCH=f'"{v1.sha256}"')
    assert response.status_code == 304
    assert len(queries) == 0


def test_a_warm_200_reads_the_bundle_from_memory(client, v1, secret):
    get(client, url(), secret)
    with CaptureQueriesContext(connection) as queries:
        response = get(client, url(), secret)
    assert response.content == bytes(v1.bundle)
    assert len(queries) == 0


def test_revoking_a_token_in_use_takes_effect_on_the_next_request(
    client, v1, tenant, admin, django_capture_on_commit_callbacks
):
    token, secret = fleet_token_create(tenant=tenant, actor=admin, name="in-use")
    assert get(client, url(), secret).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        fleet_token_revoke(token=token, actor=admin)
    assert get(client, url(), secret).status_code == 401
