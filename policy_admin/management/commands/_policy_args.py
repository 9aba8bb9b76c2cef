"""What the policy_export and policy_import commands share: finding the tenant, policy and user."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from policy_admin.models import Policy
from policy_admin.selectors import policies as selectors
from tenants.models import Membership, Tenant
from tenants.roles import Right, role_has_right


def tenant_named(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise CommandError(f"No tenant with the slug “{slug}”.")
    return tenant


def policy_named(tenant: Tenant, slug: str) -> Policy:
    try:
        return selectors.policy_get(tenant=tenant, slug=slug)
    except Policy.DoesNotExist:
        raise CommandError(
            f"{tenant.name} has no policy “{slug}” (use --create to create it)."
        ) from None


def editor_named(tenant: Tenant, username: str):
    """The user, who must be a member of the tenant with edit rights."""
    user = get_user_model().objects.filter(username=username).first()
    membership = Membership.objects.filter(user=user, tenant=tenant).first() if user else None
    if membership is None:
        raise CommandError(f"“{username}” is not a member of {tenant.name}.")
    if not role_has_right(membership.role, Right.EDIT):
        raise CommandError(
            f"“{username}” is a {membership.role} of {tenant.name}; "
            "imports need an editor or an admin."
        )
    return user
