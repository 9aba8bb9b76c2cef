"""Fixtures shared by the tenant tests: a pending invitation."""

import pytest

from tenants.roles import Role
from tenants.services import members as services


@pytest.fixture
def invited(tenant, admin, outsider):
    """acme's admin invites globex's admin as an editor of acme."""
    return services.member_invite(
        tenant=tenant, username="globex-admin", role=Role.EDITOR, actor=admin
    )
