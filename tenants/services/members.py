"""Writes for tenants and memberships."""

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from kernel.errors import ApplicationError, ConflictError
from tenants.models import Membership, Tenant
from tenants.roles import Role

User = get_user_model()


@transaction.atomic
def tenant_create(*, name: str, slug: str) -> Tenant:
    """Create a tenant with a validated, unique slug."""
    tenant = Tenant(name=name, slug=slug)
    tenant.full_clean()
    tenant.save()
    return tenant


@transaction.atomic
def member_invite(
    *, tenant: Tenant, username: str, email: str = "", role: str = Role.VIEWER
) -> tuple[Membership, str | None]:
    """Add a person to the tenant, creating their account when it does not exist yet.

    Returns the membership and, for a new account, its one-time password (shown
    once to the inviting admin, never stored in clear).
    """
    username = username.strip()
    if not username:
        raise ApplicationError("Give the new member a username.")
    user = User.objects.filter(username=username).first()
    password = None
    if user is None:
        password = secrets.token_urlsafe(12)
        user = User(username=username, email=email.strip())
        user.set_password(password)
        user.full_clean()
        user.save()
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ConflictError(f"{username} is already a member of {tenant.name}.")
    membership = Membership(tenant=tenant, user=user, role=role)
    membership.full_clean()
    membership.save()
    return membership, password


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
