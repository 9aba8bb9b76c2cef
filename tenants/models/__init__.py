"""Tenants, their members, invitations to join, and the base of every tenant-owned table."""

from tenants.models.invitations import Invitation, token_hash
from tenants.models.tenancy import Membership, Tenant, TenantOwned, slug_validator

__all__ = ["Invitation", "Membership", "Tenant", "TenantOwned", "slug_validator", "token_hash"]
