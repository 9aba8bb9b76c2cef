"""Invitations: an existing account joins another tenant only once its owner accepts the link."""

import pytest

from kernel.errors import ConflictError
from tenants.models import Invitation, Membership, token_hash
from tenants.selectors.invitations import InvitationClosed, InvitationNotYours
from tenants.services import invitations
from tenants.services import members as services

pytestmark = pytest.mark.django_db


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
