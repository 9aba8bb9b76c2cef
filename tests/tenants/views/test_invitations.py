"""Invitations: an existing account joins another tenant only once its owner accepts the link."""

import datetime as dt
import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kernel.errors import ConflictError
from tenants.models import Invitation, Membership, token_hash
from tenants.roles import Role
from tenants.selectors.invitations import InvitationClosed, InvitationNotYours
from tenants.services import invitations
from tenants.services import members as services
from tests.tenants.factories import UserFactory

pytestmark = pytest.mark.django_db

MEMBERS = "/api/v1/tenants/{}/members/"
INVITATIONS = "/api/v1/tenants/{}/invitations/"
ACCEPT = "/api/v1/invitations/accept/"
OUTSIDER_EMAIL = "globex-admin@example.com"


@pytest.fixture
def invited(tenant, admin, outsider):
    """acme's admin invites globex's admin as an editor of acme."""
    return services.member_invite(
        tenant=tenant, username="globex-admin", role=Role.EDITOR, actor=admin
    )


def accept_url(token):
    return reverse("invitation-accept", kwargs={"token": token})


def body(response):
    return html.unescape(response.content.decode())


# Services ------------------------------------------------------------------


def test_the_invitee_is_no_member_until_they_accept(tenant, invited, outsider):
    assert not Membership.objects.filter(tenant=tenant, user=outsider).exists()
    membership = invitations.invitation_accept(token=invited.token, user=outsider)
    assert (membership.tenant, membership.user, membership.role) == (tenant, outsider, "editor")
    assert Invitation.objects.get().status() == Invitation.Status.ACCEPTED


def test_the_token_is_stored_only_as_its_hash(invited):
    invitation = Invitation.objects.get()
    assert invitation.token_hash == token_hash(invited.token) != invited.token
    assert invited.token not in str(Invitation.objects.values().get())


def test_someone_else_cannot_accept_the_invitation(tenant, invited, editor):
    with pytest.raises(InvitationNotYours, match="for another account"):
        invitations.invitation_accept(token=invited.token, user=editor)
    assert Invitation.objects.get().accepted_at is None


def test_an_invitation_is_accepted_once(invited, outsider):
    invitations.invitation_accept(token=invited.token, user=outsider)
    with pytest.raises(InvitationClosed, match="already accepted"):
        invitations.invitation_accept(token=invited.token, user=outsider)


def test_inviting_again_while_pending_is_a_conflict_until_revoked(tenant, admin, invited):
    with pytest.raises(ConflictError, match="already has a pending invitation"):
        services.member_invite(tenant=tenant, username="globex-admin", actor=admin)
    invitations.invitation_revoke(invitation=invited.invitation)
    again = services.member_invite(tenant=tenant, username="globex-admin", actor=admin)
    assert again.token != invited.token


# Pages ---------------------------------------------------------------------


def test_inviting_an_existing_account_shows_the_link_once_and_no_email(client, admin, outsider):
    client.force_login(admin)
    url = reverse("tenant-members", kwargs={"tenant": "acme"})
    response = client.post(url, {"username": "globex-admin", "role": "editor"}, follow=True)
    page = body(response)
    invitation = Invitation.objects.get()
    link = "http://testserver/invitations/"
    assert "Invited globex-admin as editor" in page
    assert link in page
    assert OUTSIDER_EMAIL not in page
    assert not Membership.objects.filter(tenant__slug="acme", user=outsider).exists()
    again = body(client.get(url))
    assert link not in again  # the link is shown only once
    assert f'id="invitation-{invitation.pk}"' in again
    assert OUTSIDER_EMAIL not in again


def test_the_invitee_sees_tenant_and_role_then_joins_with_a_post(client, invited, outsider):
    client.force_login(outsider)
    page = body(client.get(accept_url(invited.token)))
    assert "Join Acme Images?" in page
    assert "as <strong>editor</strong>" in page
    assert not Membership.objects.filter(tenant__slug="acme", user=outsider).exists()
    response = client.post(accept_url(invited.token))
    assert response.status_code == 302
    assert response.url == reverse("tenant-dashboard", kwargs={"tenant": "acme"})
    assert Membership.objects.get(tenant__slug="acme", user=outsider).role == Role.EDITOR


def test_accepting_needs_the_csrf_token(invited, outsider):
    client = Client(enforce_csrf_checks=True)
    client.force_login(outsider)
    assert client.post(accept_url(invited.token)).status_code == 403
    assert not Membership.objects.filter(tenant__slug="acme", user=outsider).exists()


def test_anonymous_is_sent_to_login_and_back(client, invited):
    response = client.get(accept_url(invited.token))
    assert response.status_code == 302
    assert reverse("login") in response.url


def test_another_account_opening_the_link_learns_nothing_and_cannot_join(client, invited):
    stranger = UserFactory(username="stranger")
    client.force_login(stranger)
    for response in (client.get(accept_url(invited.token)), client.post(accept_url(invited.token))):
        assert response.status_code == 403
        assert "This invitation is for another account" in body(response)
        assert "Acme Images" not in body(response)
    assert not Membership.objects.filter(user=stranger).exists()


def test_a_revoked_invitation_is_refused_saying_so(client, admin, invited, outsider):
    client.force_login(admin)
    pk = invited.invitation.pk
    revoke = reverse("invitation-revoke", kwargs={"tenant": "acme", "pk": pk})
    assert "Revoke the invitation of globex-admin?" in body(client.get(revoke))
    assert client.post(revoke).status_code == 302
    client.force_login(outsider)
    response = client.post(accept_url(invited.token))
    assert response.status_code == 410
    assert "This invitation to Acme Images was revoked. Ask its admin for a new one." in body(
        response
    )
    assert not Membership.objects.filter(tenant__slug="acme", user=outsider).exists()


def test_an_expired_invitation_is_refused_saying_so(client, invited, outsider):
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    client.force_login(outsider)
    response = client.post(accept_url(invited.token))
    assert response.status_code == 410
    assert "This invitation to Acme Images expired on" in body(response)
    assert not Membership.objects.filter(tenant__slug="acme", user=outsider).exists()


def test_an_unknown_link_is_404(client, outsider):
    client.force_login(outsider)
    response = client.get(accept_url("not-a-real-token"))
    assert response.status_code == 404
    assert "This invitation link is not valid" in body(response)


def test_another_tenants_invitation_cannot_be_revoked_here(client, other_tenant, outsider, admin):
    theirs = services.member_invite(tenant=other_tenant, username="acme-admin", actor=outsider)
    client.force_login(admin)
    url = reverse("invitation-revoke", kwargs={"tenant": "acme", "pk": theirs.invitation.pk})
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert Invitation.objects.get().revoked_at is None


def test_only_admins_see_and_revoke_invitations(client, invited, editor):
    client.force_login(editor)
    members = body(client.get(reverse("tenant-members", kwargs={"tenant": "acme"})))
    assert "Pending invitations" not in members
    url = reverse("invitation-revoke", kwargs={"tenant": "acme", "pk": invited.invitation.pk})
    assert client.post(url).status_code == 403


# API -----------------------------------------------------------------------


def test_api_invite_of_an_existing_account_is_202_pending_with_no_email(
    api_client, admin, outsider
):
    api_client.force_authenticate(admin)
    response = api_client.post(
        MEMBERS.format("acme"), {"username": "globex-admin", "role": "editor"}
    )
    assert response.status_code == 202
    data = response.json()
    assert OUTSIDER_EMAIL not in response.content.decode()
    assert (data["username"], data["role"], data["status"]) == ("globex-admin", "editor", "pending")
    assert data["invited_by"] == "acme-admin"
    assert data["accept_url"].endswith(accept_url(data["token"]))
    assert not Membership.objects.filter(tenant__slug="acme", user=outsider).exists()
    listed = api_client.get(INVITATIONS.format("acme"))
    assert [i["username"] for i in listed.json()["results"]] == ["globex-admin"]
    assert "token" not in listed.json()["results"][0]
    assert OUTSIDER_EMAIL not in listed.content.decode()


def test_api_accept_makes_the_invitee_a_member(api_client, invited, outsider):
    api_client.force_authenticate(outsider)
    response = api_client.post(ACCEPT, {"token": invited.token})
    assert response.status_code == 201
    assert (response.json()["tenant"], response.json()["role"]) == ("acme", "editor")
    assert api_client.get(MEMBERS.format("acme")).status_code == 200


def test_api_accept_by_another_account_is_403(api_client, invited, viewer):
    api_client.force_authenticate(viewer)
    response = api_client.post(ACCEPT, {"token": invited.token})
    assert response.status_code == 403
    assert "for another account" in response.json()["message"]


def test_api_revoke_then_accept_is_410(api_client, admin, invited, outsider):
    api_client.force_authenticate(admin)
    url = f"{INVITATIONS.format('acme')}{invited.invitation.pk}/"
    assert api_client.delete(url).status_code == 204
    assert api_client.get(url).status_code == 404
    api_client.force_authenticate(outsider)
    response = api_client.post(ACCEPT, {"token": invited.token})
    assert response.status_code == 410
    assert "was revoked" in response.json()["message"]


def test_api_another_tenants_invitation_is_404(api_client, tenant, other_tenant, admin, outsider):
    theirs = services.member_invite(tenant=other_tenant, username="acme-admin", actor=outsider)
    api_client.force_authenticate(admin)
    url = f"{INVITATIONS.format('acme')}{theirs.invitation.pk}/"
    assert api_client.get(url).status_code == 404
    assert api_client.delete(url).status_code == 404
    assert api_client.get(INVITATIONS.format("globex")).status_code == 404
    assert Invitation.objects.get().revoked_at is None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_api_only_admins_read_invitations(api_client, tenant, invited, role, viewer, editor):
    api_client.force_authenticate(viewer if role == Role.VIEWER else editor)
    response = api_client.get(INVITATIONS.format("acme"))
    assert response.status_code == 403
    assert "only the tenant's admins can manage its members" in response.json()["message"]
