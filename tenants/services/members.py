"""Writes for tenants and memberships."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from kernel.errors import ApplicationError, ConflictError
from tenants.models import Invitation, Membership, Tenant
from tenants.roles import Role
from tenants.services.invitations import invitation_create

User = get_user_model()


@transaction.atomic
def tenant_create(*, name: str, slug: str) -> Tenant:
    """Create a tenant with a validated, unique slug."""
    tenant = Tenant(name=name, slug=slug)
    tenant.full_clean()
    tenant.save()
    return tenant


@dataclass(frozen=True)
class Invited:
    """What an invite did: created a new account and its membership, or invited an existing one.

    `password` is the new account's one-time password and `token` the
    invitation's secret; each is shown once to the inviting admin, never stored
    in clear.
    """

    membership: Membership | None = None
    password: str | None = None
    invitation: Invitation | None = None
    token: str | None = None


@transaction.atomic
def member_invite(
    *, tenant: Tenant, username: str, email: str = "", role: str = Role.VIEWER, actor=None
) -> Invited:
    """Add a person to the tenant: a new account joins at once, an existing one is invited.

    An existing account may belong to anyone, so it joins only when its owner
    accepts the invitation (services.invitations); until then nothing of it is
    shown beyond the username the admin typed.
    """
    username = username.strip()
    if not username:
        raise ApplicationError("Give the new member a username.")
    user = User.objects.filter(username=username).first()
    if user is not None:
        if Membership.objects.filter(tenant=tenant, user=user).exists():
            raise ConflictError(f"{username} is already a member of {tenant.name}.")
        invitation, token = invitation_create(
            tenant=tenant, invitee=user, username=username, role=role, actor=actor
        )
        return Invited(invitation=invitation, token=token)
    password = secrets.token_urlsafe(12)
    user = User(username=username, email=email.strip())
    user.set_password(password)
    user.full_clean()
    user.save()
    membership = Membership(tenant=tenant, user=user, role=role)
    membership.full_clean()
    membership.save()
    return Invited(membership=membership, password=password)


@transaction.atomic
def member_change_role(*, membership: Membership, role: str) -> Membership:
    """Change a member's role; the tenant always keeps at least one admin."""
    membership = _lock(membership)
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        _refuse_if_last_admin(membership, "change the role of")
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def member_remove(*, membership: Membership) -> None:
    """Remove a member from the tenant; the last admin cannot be removed."""
    membership = _lock(membership)
    if membership.role == Role.ADMIN:
        _refuse_if_last_admin(membership, "remove")
    membership.delete()


def _lock(membership: Membership) -> Membership:
    # Lock every admin row of the tenant: two admins demoting each other at
    # once must not both succeed and leave the tenant without one.
    list(
        Membership.objects.select_for_update()
        .filter(tenant_id=membership.tenant_id, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    return Membership.objects.select_related("user", "tenant").get(pk=membership.pk)


def _refuse_if_last_admin(membership: Membership, verb: str) -> None:
    admins = Membership.objects.filter(tenant_id=membership.tenant_id, role=Role.ADMIN)
    if admins.count() <= 1:
        raise ConflictError(
            f"You cannot {verb} {membership.user.username}: they are the last admin of "
            f"{membership.tenant.name}. Make another member an admin first."
        )


@transaction.atomic
def api_token_rotate(*, user) -> Token:
    """Issue the user a new API token; the previous one stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)
