"""Every publishing page and endpoint: another tenant's member gets 404, viewers cannot write."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from policy_admin.fleet.services import fleet_token_create, fleet_token_revoke
from policy_admin.models import AuditEvent, FleetToken

pytestmark = pytest.mark.django_db


def api(name, **kwargs):
    return reverse(name, kwargs={"tenant": "acme", "policy": "default", **kwargs})


def policy_page(name, **kwargs):
    return reverse(name, kwargs={"tenant": "acme", "slug": "default", **kwargs})


WRITES = [
    ("post", api("policy-version-publish"), {"revision": 1}),
    ("post", api("policy-version-approve"), {"revision": 1}),
    ("post", api("policy-channel-promote", channel="production"), {"version": 1}),
    ("post", api("policy-channel-rollback", channel="production"), {"version": 1}),
]
READS = [
    api("policy-version-list"),
    api("policy-version-detail", number=1),
    f"{api('policy-version-diff', number=1)}?against=1",
    api("policy-channel-list"),
    api("policy-channel-history", channel="production"),
]


@pytest.mark.parametrize("path", READS)
def test_outsider_gets_404_on_every_read(api_client, v1, outsider, path):
    api_client.force_authenticate(outsider)
    assert api_client.get(path).status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_outsider_gets_404_on_every_write(api_client, v1, outsider, method, path, body):
    api_client.force_authenticate(outsider)
    assert getattr(api_client, method)(path, body).status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_viewer_gets_403_on_every_write(api_client, v1, viewer, method, path, body):
    api_client.force_authenticate(viewer)
    assert getattr(api_client, method)(path, body).status_code == 403


@pytest.mark.parametrize("path", READS)
def test_viewer_reads_everything(api_client, v1, viewer, path):
    api_client.force_authenticate(viewer)
    assert api_client.get(path).status_code == 200


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


def test_token_create_and_revoke_are_audited(tenant, admin):
    token, _ = fleet_token_create(tenant=tenant, actor=admin, name="eu")
    fleet_token_revoke(token=token, actor=admin)
    verbs = list(
        AuditEvent.objects.filter(target_type="fleet token").values_list("verb", flat=True)
    )
    assert sorted(verbs) == ["create", "revoke"]
    assert FleetToken.objects.get().revoked_at is not None


def test_signing_key_commands_rotate_list_and_retire(settings):
    out = io.StringIO()
    call_command("signing_key_list", stdout=out)
    first = out.getvalue().split()[0]
    call_command("signing_key_rotate", stdout=io.StringIO())
    out = io.StringIO()
    call_command("signing_key_list", stdout=out)
    statuses = dict(line.split()[:2] for line in out.getvalue().splitlines())
    assert statuses[first] == "retiring"
    assert sorted(statuses.values()) == ["active", "retiring"]
    call_command("signing_key_rotate", "--retire", stdout=io.StringIO())
    out = io.StringIO()
    call_command("signing_key_list", stdout=out)
    assert first not in out.getvalue()
