"""Reads for tenants and memberships."""

from django.db.models import Q, QuerySet

from tenants.models import Membership, Tenant
from tenants.scoping import scoped


def tenant_list_for_user(*, user) -> QuerySet[Tenant]:
    """The tenants the user is a member of, and no other."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=user).order_by("name")


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    """The user's memberships with their tenants, by tenant name."""
    return Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")


def member_list(*, tenant: Tenant, search: str = "") -> QuerySet[Membership]:
    """The tenant's members with their users, by username; `search` matches name or email."""
    members = scoped(Membership.objects.select_related("user"), tenant)
    if search:
        members = members.filter(
            Q(user__username__icontains=search) | Q(user__email__icontains=search)
        )
    return members.order_by("user__username")
