"""Fleet token services: creating and revoking a token are audited."""

import pytest

from policy_admin.fleet.services import fleet_token_create, fleet_token_revoke
from policy_admin.models import AuditEvent, FleetToken

pytestmark = pytest.mark.django_db


def test_token_create_and_revoke_are_audited(tenant, admin):
    token, _ = fleet_token_create(tenant=tenant, actor=admin, name="eu")
    fleet_token_revoke(token=token, actor=admin)
    verbs = list(
        AuditEvent.objects.filter(target_type="fleet token").values_list("verb", flat=True)
    )
    assert sorted(verbs) == ["create", "revoke"]
    assert FleetToken.objects.get().revoked_at is not None
