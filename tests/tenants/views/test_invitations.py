"""Invitation pages: an admin invites an existing account, its owner accepts the link or is
told why not, and an admin revokes a pending invitation."""

import datetime as dt
import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tenants.models import Invitation, Membership
from tenants.roles import Role
from tenants.services import members as services
from tests.tenants.factories import UserFactory

pytestmark = pytest.mark.django_db

OUTSIDER_EMAIL = "globex-admin@example.com"


def accept_url(token):
    return reverse("invitation-accept", kwargs={"token": token})


def link_start():
    """What every invitation link the members page shows starts with: up to the token."""
    return "http://testserver" + accept_url("token").removesuffix("token/")


def body(response):
    return html.unescape(response.content.decode())


def test_inviting_an_existing_account_shows_the_link_once_and_no_email(client, admin, outsider):
    client.force_login(admin)
    url = reverse("tenant-members", kwargs={"tenant": "acme"})
    response = client.post(url, {"username": "globex-admin", "role": "editor"}, follow=True)
    page = body(response)
    invitation = Invitation.objects.get()
    link = link_start()
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
