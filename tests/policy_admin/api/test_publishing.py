"""The authoring API for publishing: versions, diffs, channels, history, fleet tokens."""

import pytest
from django.urls import reverse, reverse_lazy
from rest_framework.test import APIClient

from policy_admin.fleet.services import token_hash
from policy_admin.models import AuditEvent, FleetToken, PolicyVersion
from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keyword_set")]


def api_url(name, **kwargs):
    """An API address under the default policy of acme."""
    return reverse(name, kwargs={"tenant": "acme", "policy": "default", **kwargs})


def as_user(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def publish(client, revision, note=""):
    return client.post(api_url("policy-version-publish"), {"revision": revision, "note": note})


def test_editor_publishes_and_lists_versions(api_client, policy, editor):
    client = as_user(api_client, editor)
    response = publish(client, 1, "first")
    assert response.status_code == 201, response.json()
    assert (response.json()["number"], response.json()["note"]) == (1, "first")
    listed = client.get(api_url("policy-version-list")).json()["results"]
    assert [v["number"] for v in listed] == [1]
    detail = client.get(api_url("policy-version-detail", number=1)).json()
    assert detail["sha256"] == response.json()["sha256"]


def test_stale_publish_is_409_with_the_current_revision(api_client, policy, editor):
    response = publish(as_user(api_client, editor), 7)
    assert response.status_code == 409
    assert response.json()["extra"]["current_revision"] == 1


def test_viewer_cannot_publish(api_client, policy, viewer):
    response = publish(as_user(api_client, viewer), 1)
    assert response.status_code == 403
    assert "only editors and admins can publish" in response.json()["message"]
    assert not PolicyVersion.objects.exists()


def test_other_tenants_policy_versions_are_404(api_client, policy, editor, outsider):
    publish(as_user(api_client, editor), 1)
    client = as_user(api_client, outsider)
    for path in (
        api_url("policy-version-list"),
        api_url("policy-version-detail", number=1),
        api_url("policy-channel-list"),
    ):
        assert client.get(path).status_code == 404
    assert publish(client, 1).status_code == 404


def test_versions_are_read_only(api_client, policy, editor):
    client = as_user(api_client, editor)
    publish(client, 1)
    version = api_url("policy-version-detail", number=1)
    assert client.patch(version, {"note": "x"}).status_code == 405
    assert client.delete(version).status_code == 405


def test_promote_rollback_history_and_diff(api_client, policy, editor):
    client = as_user(api_client, editor)
    publish(client, 1)
    KeywordRuleSetFactory(policy=policy, name="Weapons", terms="gun", term_count=1)
    policy.refresh_from_db()
    policy.revision = 2
    policy.save(update_fields=["revision"])
    publish(client, 2)
    for number in (1, 2):
        moved = client.post(
            api_url("policy-channel-promote", channel="production"), {"version": number}
        )
        assert moved.status_code == 200
    back = client.post(
        api_url("policy-channel-rollback", channel="production"), {"version": 1, "note": "oops"}
    )
    assert back.json()["version"] == 3
    history = client.get(api_url("policy-channel-history", channel="production")).json()["results"]
    assert [(m["kind"], m["from_version"], m["to_version"]) for m in history] == [
        ("rollback", 2, 3),
        ("promote", 1, 2),
        ("promote", None, 1),
    ]
    diff = client.get(api_url("policy-version-diff", number=2), {"against": 1}).json()
    assert [a["name"] for a in diff["added"]] == ["Weapons"]
    assert client.get(api_url("policy-version-diff", number=3), {"against": 1}).json() == {
        "added": [],
        "removed": [],
        "changed": [],
    }
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"publish", "promote", "rollback"} <= verbs


def test_promote_to_a_missing_version_is_400(api_client, policy, editor):
    response = as_user(api_client, editor).post(
        api_url("policy-channel-promote", channel="staging"), {"version": 4}
    )
    assert response.status_code == 400
    assert "has no version 4" in response.json()["message"]


def test_viewer_cannot_promote(api_client, policy, viewer):
    response = as_user(api_client, viewer).post(
        api_url("policy-channel-promote", channel="staging"), {"version": 1}
    )
    assert response.status_code == 403


TOKENS = reverse_lazy("api-fleet-token-list", kwargs={"tenant": "acme"})


def token_url(name, pk, tenant="acme"):
    return reverse(name, kwargs={"tenant": tenant, "pk": pk})


def test_admin_creates_a_token_whose_secret_is_shown_once(api_client, policy, admin):
    client = as_user(api_client, admin)
    response = client.post(
        TOKENS, {"name": "eu", "policies": ["default"], "channels": ["production"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    secret = response.json()["secret"]
    token = FleetToken.objects.get()
    assert token.token_hash == token_hash(secret)
    assert secret not in str(FleetToken.objects.values().get())
    listed = client.get(TOKENS).json()["results"]
    assert listed[0]["policies"] == ["default"]
    assert "secret" not in listed[0]
    revoked = client.post(token_url("api-fleet-token-revoke", token.pk))
    assert revoked.json()["revoked"] is True
    assert client.post(token_url("api-fleet-token-revoke", token.pk)).status_code == 400


def test_token_scope_must_name_this_tenants_policies(api_client, policy, admin, other_tenant):
    PolicyFactory(tenant=other_tenant, slug="theirs")
    response = as_user(api_client, admin).post(
        TOKENS, {"name": "x", "policies": ["theirs"]}, format="json"
    )
    assert response.status_code == 400
    assert "No such policy: theirs" in str(response.json())


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_only_admins_manage_tokens(api_client, policy, request, who):
    client = as_user(api_client, request.getfixturevalue(who))
    assert client.get(TOKENS).status_code == 403
    assert client.post(TOKENS, {"name": "x"}, format="json").status_code == 403


def test_other_tenants_tokens_are_404(api_client, admin, outsider, tenant):
    as_user(api_client, admin).post(TOKENS, {"name": "mine"}, format="json")
    token = FleetToken.objects.get()
    client = as_user(api_client, outsider)
    assert client.get(TOKENS).status_code == 404
    assert client.get(token_url("api-fleet-token-detail", token.pk, "globex")).status_code == 404
    assert client.post(token_url("api-fleet-token-revoke", token.pk, "globex")).status_code == 404


def test_version_list_has_no_n_plus_one(api_client, policy, editor, django_assert_max_num_queries):
    client = as_user(api_client, editor)
    publish(client, 1)
    for revision in (2, 3):
        policy.revision = revision
        policy.save(update_fields=["revision"])
        publish(client, revision)
    with django_assert_max_num_queries(6):
        assert len(client.get(api_url("policy-version-list")).json()["results"]) == 3


SETTINGS = reverse_lazy("api-publishing-settings", kwargs={"tenant": "acme"})


def test_admin_turns_four_eyes_on_and_off_audited(api_client, policy, admin, editor):
    client = as_user(api_client, admin)
    assert client.get(SETTINGS).json() == {"require_approval": False}

    response = client.put(SETTINGS, {"require_approval": True}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {"require_approval": True}
    event = AuditEvent.objects.get(target_type="publishing settings")
    assert (event.actor, event.summary) == (admin, "four-eyes publishing on")
    refused = publish(as_user(APIClient(), editor), policy.revision)
    assert refused.status_code == 400
    assert "requires a second person's approval" in refused.json()["message"]
    assert client.put(SETTINGS, {"require_approval": False}, format="json").status_code == 200
    assert client.get(SETTINGS).json() == {"require_approval": False}


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_only_admins_change_four_eyes(api_client, policy, request, who):
    client = as_user(api_client, request.getfixturevalue(who))
    assert client.get(SETTINGS).json() == {"require_approval": False}
    response = client.put(SETTINGS, {"require_approval": True}, format="json")
    assert response.status_code == 403
    message = response.json()["message"]
    assert "only the tenant's admins can change its publishing settings" in message
    assert not AuditEvent.objects.filter(target_type="publishing settings").exists()


def test_other_tenants_publishing_settings_are_404(api_client, admin, outsider):
    client = as_user(api_client, outsider)
    assert client.get(SETTINGS).status_code == 404
    assert client.put(SETTINGS, {"require_approval": True}, format="json").status_code == 404


def test_four_eyes_setting_needs_a_boolean(api_client, admin):
    response = as_user(api_client, admin).put(SETTINGS, {}, format="json")
    assert response.status_code == 400
    assert "require_approval" in str(response.json())
