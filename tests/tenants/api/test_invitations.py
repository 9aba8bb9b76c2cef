"""Invitations API: inviting an existing account is 202 pending, the invitee accepts by
token, admins list and revoke them, and another tenant's invitation is a 404."""

import pytest
from django.urls import reverse, reverse_lazy

from tenants.models import Invitation, Membership
from tenants.roles import Role
from tenants.services import members as services

pytestmark = pytest.mark.django_db

ACCEPT = reverse_lazy("invitation-accept-api")
OUTSIDER_EMAIL = "globex-admin@example.com"


def members_url(tenant="acme"):
    return reverse("member-list", kwargs={"tenant": tenant})


def invitations_url(tenant="acme", **kwargs):
    """The tenant's invitations, or with `pk` one of them."""
    name = "invitation-detail" if kwargs else "invitation-list"
    return reverse(name, kwargs={"tenant": tenant, **kwargs})


def accept_url(token):
    """The page the invitee opens: the API answers it in `accept_url`."""
    return reverse("invitation-accept", kwargs={"token": token})


def test_api_invite_of_an_existing_account_is_202_pending_with_no_email(
    api_client, admin, outsider
):
    api_client.force_authenticate(admin)
    response = api_client.post(members_url(), {"username": "globex-admin", "role": "editor"})
    assert response.status_code == 202
    data = response.json()
    assert OUTSIDER_EMAIL not in response.content.decode()
    assert (data["username"], data["role"], data["status"]) == ("globex-admin", "editor", "pending")
    assert data["invited_by"] == "acme-admin"
    assert data["accept_url"].endswith(accept_url(data["token"]))
    assert not Membership.objects.filter(tenant__slug="acme", user=outsider).exists()
    listed = api_client.get(invitations_url())
    assert [i["username"] for i in listed.json()["results"]] == ["globex-admin"]
    assert "token" not in listed.json()["results"][0]
    assert OUTSIDER_EMAIL not in listed.content.decode()


def test_api_accept_makes_the_invitee_a_member(api_client, invited, outsider):
    api_client.force_authenticate(outsider)
    response = api_client.post(ACCEPT, {"token": invited.token})
    assert response.status_code == 201
    assert (response.json()["tenant"], response.json()["role"]) == ("acme", "editor")
    assert api_client.get(members_url()).status_code == 200


def test_api_accept_by_another_account_is_403(api_client, invited, viewer):
    api_client.force_authenticate(viewer)
    response = api_client.post(ACCEPT, {"token": invited.token})
    assert response.status_code == 403
    assert "for another account" in response.json()["message"]


def test_api_revoke_then_accept_is_410(api_client, admin, invited, outsider):
    api_client.force_authenticate(admin)
    url = invitations_url(pk=invited.invitation.pk)
    assert api_client.delete(url).status_code == 204
    assert api_client.get(url).status_code == 404
    api_client.force_authenticate(outsider)
    response = api_client.post(ACCEPT, {"token": invited.token})
    assert response.status_code == 410
    assert "was revoked" in response.json()["message"]


def test_api_another_tenants_invitation_is_404(api_client, tenant, other_tenant, admin, outsider):
    theirs = services.member_invite(tenant=other_tenant, username="acme-admin", actor=outsider)
    api_client.force_authenticate(admin)
    url = invitations_url(pk=theirs.invitation.pk)
    assert api_client.get(url).status_code == 404
    assert api_client.delete(url).status_code == 404
    assert api_client.get(invitations_url("globex")).status_code == 404
    assert Invitation.objects.get().revoked_at is None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_api_only_admins_read_invitations(api_client, tenant, invited, role, viewer, editor):
    api_client.force_authenticate(viewer if role == Role.VIEWER else editor)
    response = api_client.get(invitations_url())
    assert response.status_code == 403
    assert "only the tenant's admins can manage its members" in response.json()["message"]
