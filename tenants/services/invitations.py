"""Invitations of existing accounts: sent by a tenant's admin, accepted only by the invitee."""

import secrets

from django.db import transaction
from django.utils import timezone

from kernel.errors import ConflictError
from tenants.models import Invitation, Membership, Tenant, token_hash
from tenants.selectors.invitations import invitation_open


@transaction.atomic
def invitation_create(
    *, tenant: Tenant, invitee, username: str, role: str, actor
) -> tuple[Invitation, str]:
    """Invite an existing account; returns the invitation and its secret token, shown only once.

    Only the token's hash is stored, so the link cannot be shown again: an admin
    who lost it revokes the invitation and sends a new one.
    """
    now = timezone.now()
    open_ones = Invitation.objects.filter(
        tenant=tenant, invitee=invitee, accepted_at=None, revoked_at=None, expires_at__gt=now
    )
    if open_ones.exists():
        raise ConflictError(
            f"{username} already has a pending invitation to {tenant.name}. Revoke it to "
            "send a new link."
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        tenant=tenant,
        invitee=invitee,
        username=username,
        role=role,
        token_hash=token_hash(token),
        created_by=actor,
        expires_at=now + Invitation.LIFETIME,
    )
    invitation.full_clean()
    invitation.save()
    return invitation, token


@transaction.atomic
def invitation_accept(*, token: str, user) -> Membership:
    """Make the invitee a member in the invited role; anyone else, or a closed link, is refused."""
    invitation = invitation_open(token=token, user=user, lock=True)
    if Membership.objects.filter(tenant_id=invitation.tenant_id, user=user).exists():
        raise ConflictError(f"You are already a member of {invitation.tenant.name}.")
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    membership = Membership(tenant=invitation.tenant, user=user, role=invitation.role)
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Withdraw an invitation that was not accepted; its link stops working at once."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise ConflictError(
            f"{invitation.username} already accepted this invitation; remove the member instead."
        )
    if not invitation.revoked_at:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation
