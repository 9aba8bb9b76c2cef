"""Pages: versions and channels, publish, promote/rollback, diff, rollout, fleet tokens."""

from datetime import timedelta

import pytest
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from policy_admin.fleet.services import fleet_token_create
from policy_admin.models import FleetInstance, FleetToken, PolicyVersion
from policy_admin.services.publishing import policy_publish
from tests.policy_admin.factories import KeywordRuleSetFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keyword_set")]

TOKENS = reverse_lazy("fleet-tokens", kwargs={"tenant": "acme"})


def policy_page(name, **kwargs):
    """A page of the default policy of acme."""
    return reverse(name, kwargs={"tenant": "acme", "slug": "default", **kwargs})


def revoke_page(token, tenant="acme"):
    return reverse("fleet-token-revoke", kwargs={"tenant": tenant, "pk": token.pk})


def test_editor_publishes_from_the_page(client, policy, editor):
    client.force_login(editor)
    response = client.post(
        policy_page("policy-versions"), {"revision": 1, "note": "go"}, follow=True
    )
    assert "Published v1." in response.content.decode()
    assert PolicyVersion.objects.get().note == "go"
    editor_page = client.get(policy_page("policy-editor")).content.decode()
    assert 'data-testid="published-version"' in editor_page
    assert "not published yet" not in editor_page


def test_stale_publish_shows_the_reason(client, policy, editor):
    client.force_login(editor)
    response = client.post(policy_page("policy-versions"), {"revision": 9})
    assert response.status_code == 409
    assert "draft is at revision 1" in response.content.decode()


def test_viewer_reads_but_cannot_publish(client, v1, viewer):
    client.force_login(viewer)
    page = client.get(policy_page("policy-versions"))
    assert page.status_code == 200
    assert 'data-testid="publish"' not in page.content.decode()
    assert client.post(policy_page("policy-versions"), {"revision": 1}).status_code == 403
    move = {"kind": "promote", "channel": "staging", "version": 1}
    assert client.post(policy_page("policy-channel-move"), move).status_code == 403


def test_promote_and_rollback_from_the_page(client, policy, v1, editor):
    client.force_login(editor)
    move = {"kind": "promote", "channel": "staging", "version": 1, "note": ""}
    response = client.post(policy_page("policy-channel-move"), move, follow=True)
    assert "Channel staging now runs v1." in response.content.decode()
    move = {"kind": "rollback", "channel": "staging", "version": 1, "note": ""}
    response = client.post(policy_page("policy-channel-move"), move)
    assert response.status_code == 400
    assert "already runs v1" in response.content.decode()


def test_diff_page_lists_added_rules(client, policy, v1, editor):
    KeywordRuleSetFactory(policy=policy, name="Weapons", terms="gun", term_count=1)
    policy.refresh_from_db()
    policy.revision += 1
    policy.save(update_fields=["revision"])
    policy_publish(policy=policy, actor=editor, revision=policy.revision)
    client.force_login(editor)
    page = client.get(policy_page("policy-version-changes", number=2)).content.decode()
    assert 'data-testid="added"' in page
    assert "Weapons" in page
    assert client.get(policy_page("policy-version-changes", number=9)).status_code == 404


def test_channel_page_shows_rollout_history_and_stale_servers(client, tenant, v1, viewer):
    entry = {"policy": "default", "channel": "production", "version": 1, "sha256": v1.sha256}
    rejected = {**entry, "version": 0, "sha256": "0" * 64}
    rejected["last_rejected"] = {
        "version": 2,
        "sha256": None,
        "reason": "bad_signature",
        "message": "no pinned key verified it",
    }
    now = timezone.now()
    FleetInstance.objects.create(
        tenant=tenant, instance_id="gpu-a", labels={"region": "eu"}, bundles=[entry], last_seen=now
    )
    FleetInstance.objects.create(
        tenant=tenant, instance_id="gpu-b", bundles=[rejected], last_seen=now - timedelta(minutes=5)
    )
    client.force_login(viewer)
    page = client.get(policy_page("policy-channel", channel="production")).content.decode()
    assert "1 of 2 servers run the channel" in page
    assert "bad_signature" in page
    b_row = page.split('data-testid="server-gpu-b"')[1].split("</tr>")[0]
    assert "stale" in b_row
    assert "stale" not in page.split('data-testid="server-gpu-a"')[1].split("</tr>")[0]
    assert "Promoted: nothing → v1" in page


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("policy-versions", {}),
        ("policy-version-changes", {"number": 1}),
        ("policy-channel", {"channel": "production"}),
    ],
)
def test_other_tenant_pages_are_404(client, v1, outsider, name, kwargs):
    client.force_login(outsider)
    assert client.get(policy_page(name, **kwargs)).status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (policy_page("policy-approve"), {"revision": 1}),
        (policy_page("policy-channel-move"), {"kind": "promote", "channel": "x", "version": 1}),
        (reverse("publishing-settings", kwargs={"tenant": "acme"}), {"require_approval": "on"}),
        (reverse("fleet-tokens", kwargs={"tenant": "acme"}), {"name": "x"}),
    ],
)
def test_outsider_gets_404_on_every_page_post(client, v1, outsider, path, body):
    client.force_login(outsider)
    assert client.post(path, body).status_code == 404


def test_admin_creates_token_and_sees_secret_once(client, policy, admin):
    client.force_login(admin)
    response = client.post(
        TOKENS,
        {"name": "gpu-eu", "policies": [policy.pk], "channels": "production"},
    )
    assert response.status_code == 201
    token = FleetToken.objects.get()
    assert (token.policy_ids, token.channels) == ([policy.pk], ["production"])
    assert FleetToken.PREFIX in response.content.decode()
    listing = client.get(TOKENS).content.decode()
    assert token.token_prefix in listing
    assert 'data-testid="token-secret"' not in listing


def test_a_token_gets_both_scopes_unless_the_admin_narrows_them(client, admin):
    client.force_login(admin)
    client.post(TOKENS, {"name": "both"})
    client.post(TOKENS, {"name": "uploads", "scopes": ["report"]})
    scopes = dict(FleetToken.objects.values_list("name", "scopes"))
    assert scopes == {"both": ["fetch", "report"], "uploads": ["report"]}
    assert "fetch, report" in client.get(TOKENS).content.decode()


def test_admin_revokes_a_token_after_confirming(client, tenant, admin):
    token, _ = fleet_token_create(tenant=tenant, actor=admin, name="old")
    client.force_login(admin)
    assert "Revoke the fleet token" in client.get(revoke_page(token)).content.decode()
    client.post(revoke_page(token))
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_only_admins_see_token_pages(client, tenant, admin, request, who):
    token, _ = fleet_token_create(tenant=tenant, actor=admin, name="x")
    client.force_login(request.getfixturevalue(who))
    assert client.get(TOKENS).status_code == 403
    assert client.post(revoke_page(token)).status_code == 403


def test_other_tenants_token_is_404(client, tenant, admin, outsider):
    token, _ = fleet_token_create(tenant=tenant, actor=admin, name="x")
    client.force_login(outsider)
    assert client.get(TOKENS).status_code == 404
    assert client.get(revoke_page(token, "globex")).status_code == 404
    assert client.post(revoke_page(token, "globex")).status_code == 404
