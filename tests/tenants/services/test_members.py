"""Member services: invites, role changes and removal keep the tenant administrable."""

import pytest

from kernel.errors import ApplicationError, ConflictError
from tenants.models import Membership
from tenants.roles import Role
from tenants.services import members as services

pytestmark = pytest.mark.django_db


def test_invite_creates_the_account_with_a_one_time_password(tenant):
    invited = services.member_invite(tenant=tenant, username="new", role=Role.EDITOR)
    assert invited.membership.role == Role.EDITOR
    assert invited.membership.user.check_password(invited.password)
    assert invited.invitation is None


def test_invite_of_an_existing_account_only_invites_it(tenant, admin, outsider):
    invited = services.member_invite(tenant=tenant, username="globex-admin", actor=admin)
    assert (invited.membership, invited.password) == (None, None)
    assert invited.invitation.invitee == outsider
    assert outsider.memberships.count() == 1


def test_invite_twice_is_a_conflict(tenant, editor):
    with pytest.raises(ConflictError, match="already a member"):
        services.member_invite(tenant=tenant, username="acme-editor")


def test_invite_without_username_is_refused(tenant):
    with pytest.raises(ApplicationError, match="username"):
        services.member_invite(tenant=tenant, username="   ")


def test_demoting_the_last_admin_is_refused(tenant, admin):
    membership = Membership.objects.get(user=admin)
    with pytest.raises(ConflictError, match="last admin"):
        services.member_change_role(membership=membership, role=Role.EDITOR)


def test_demoting_an_admin_when_another_remains(tenant, admin, editor):
    services.member_change_role(membership=Membership.objects.get(user=editor), role=Role.ADMIN)
    demoted = services.member_change_role(
        membership=Membership.objects.get(user=admin), role=Role.VIEWER
    )
    assert demoted.role == Role.VIEWER


def test_removing_the_last_admin_is_refused(tenant, admin):
    with pytest.raises(ConflictError, match="last admin"):
        services.member_remove(membership=Membership.objects.get(user=admin))


def test_unknown_role_is_refused(tenant, editor):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.member_change_role(membership=Membership.objects.get(user=editor), role="owner")
