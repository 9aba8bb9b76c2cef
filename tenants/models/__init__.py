"""Tenants, their members and the abstract base of every tenant-owned table."""

from tenants.models.tenancy import Membership, Tenant, TenantOwned, slug_validator

__all__ = ["Membership", "Tenant", "TenantOwned", "slug_validator"]
