"""Reads for invitations: an admin's open ones, and the one a link opens for its invitee."""

from django.db.models import QuerySet
from django.utils import timezone

from kernel.errors import ApplicationError
from tenants.models import Invitation, Tenant, token_hash
from tenants.scoping import scoped


class InvitationNotFound(ApplicationError):
    """No invitation has this token."""

    status_code = 404


class InvitationNotYours(ApplicationError):
    """The invitation names another account than the one signed in."""

    status_code = 403


class InvitationClosed(ApplicationError):
    """The invitation was accepted, revoked or has expired."""

    status_code = 410


def invitation_list_open(*, tenant: Tenant) -> QuerySet[Invitation]:
    """The tenant's invitations neither accepted nor revoked (expired ones too), newest first."""
    invitations = scoped(Invitation.objects.select_related("created_by"), tenant)
    return invitations.filter(accepted_at=None, revoked_at=None).order_by("-created_at", "-id")


def invitation_open(*, token: str, user, lock: bool = False) -> Invitation:
    """The pending invitation this token opens for `user`, its invitee; else an error saying why.

    Anyone but the invitee learns nothing from the link, not even the tenant.
    """
    invitations = Invitation.objects.select_related("tenant", "created_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise InvitationNotFound(
            "This invitation link is not valid. Check that you copied all of it, or ask the "
            "tenant's admin for a new one."
        )
    if invitation.invitee_id != user.pk:
        raise InvitationNotYours(
            "This invitation is for another account. Sign in as the account it was sent to, "
            "then open the link again."
        )
    status = invitation.status(timezone.now())
    if status == Invitation.Status.ACCEPTED:
        raise InvitationClosed(f"You already accepted this invitation to {invitation.tenant.name}.")
    if status == Invitation.Status.REVOKED:
        raise InvitationClosed(
            f"This invitation to {invitation.tenant.name} was revoked. Ask its admin for a new one."
        )
    if status == Invitation.Status.EXPIRED:
        raise InvitationClosed(
            f"This invitation to {invitation.tenant.name} expired on "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC. Ask its admin for a new one."
        )
    return invitation
