"""API: tenants and members, for anonymous, each role, outsiders and tokens."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy
from rest_framework.authtoken.models import Token

from tenants.models import Membership
from tenants.roles import Role
from tests.tenants.factories import MembershipFactory

pytestmark = pytest.mark.django_db

TENANTS = reverse_lazy("tenant-list")
ACME = reverse_lazy("tenant-detail", kwargs={"tenant": "acme"})


def members(tenant="acme"):
    return reverse("member-list", kwargs={"tenant": tenant})


def member(membership, tenant="acme"):
    return reverse("member-detail", kwargs={"tenant": tenant, "pk": membership.pk})


def test_anonymous_gets_401(api_client, tenant):
    for url in [TENANTS, ACME, members()]:
        response = api_client.get(url)
        assert response.status_code == 401, url
        assert response.json()["message"]


def test_tenant_list_holds_only_the_users_tenants_with_role(
    api_client, tenant, other_tenant, editor
):
    api_client.force_authenticate(editor)
    data = api_client.get(TENANTS).json()
    assert [(t["slug"], t["role"]) for t in data["results"]] == [("acme", "editor")]


def test_other_tenant_is_404(api_client, tenant, admin, outsider):
    api_client.force_authenticate(outsider)
    assert api_client.get(ACME).status_code == 404
    assert api_client.get(members()).status_code == 404
    membership = Membership.objects.get(user=admin)
    url = member(membership)
    assert api_client.get(url).status_code == 404
    assert api_client.delete(url).status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_membership_of_another_tenant_through_own_tenant_url_is_404(
    api_client, tenant, admin, outsider
):
    api_client.force_authenticate(admin)
    theirs = Membership.objects.get(user=outsider)
    url = member(theirs)
    assert api_client.get(url).status_code == 404
    assert api_client.patch(url, {"role": "viewer"}).status_code == 404


def test_token_of_tenant_a_on_tenant_b_is_404(api_client, tenant, editor, other_tenant):
    token = Token.objects.create(user=editor)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get(members()).status_code == 200
    assert api_client.get(members("globex")).status_code == 404


def test_bad_token_is_401(api_client, tenant):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api_client.get(members()).status_code == 401


@pytest.mark.parametrize(
    ("role", "status"), [(Role.VIEWER, 403), (Role.EDITOR, 403), (Role.ADMIN, 201)]
)
def test_only_admins_invite(api_client, tenant, role, status):
    user = MembershipFactory(tenant=tenant, role=role).user
    api_client.force_authenticate(user)
    response = api_client.post(members(), {"username": "newcomer", "role": "editor"})
    assert response.status_code == status
    if status == 403:
        assert "only the tenant's admins can manage its members" in response.json()["message"]
    else:
        assert response.json()["password"]
        assert response.json()["role"] == "editor"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR, Role.ADMIN])
def test_every_member_reads_the_member_list(api_client, tenant, role):
    user = MembershipFactory(tenant=tenant, role=role).user
    api_client.force_authenticate(user)
    assert api_client.get(members()).status_code == 200


def test_admin_changes_a_role(api_client, tenant, admin, editor):
    api_client.force_authenticate(admin)
    membership = Membership.objects.get(user=editor)
    response = api_client.patch(member(membership), {"role": "viewer"})
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"


def test_unknown_role_is_400_naming_the_field(api_client, tenant, admin, editor):
    api_client.force_authenticate(admin)
    membership = Membership.objects.get(user=editor)
    response = api_client.patch(member(membership), {"role": "owner"})
    assert response.status_code == 400
    assert "role" in response.json()["extra"]["fields"]


def test_removing_the_last_admin_is_409(api_client, tenant, admin):
    api_client.force_authenticate(admin)
    membership = Membership.objects.get(user=admin)
    response = api_client.delete(member(membership))
    assert response.status_code == 409
    assert "last admin" in response.json()["message"]


def test_member_list_query_count_does_not_grow_with_members(api_client, tenant, admin):
    api_client.force_authenticate(admin)
    url = members()
    with CaptureQueriesContext(connection) as few:
        api_client.get(url)
    MembershipFactory.create_batch(20, tenant=tenant)
    with CaptureQueriesContext(connection) as many:
        assert len(api_client.get(url).json()["results"]) == 21
    assert len(many) == len(few)


def test_obtain_token_with_password(api_client, editor):
    from tests.tenants.factories import PASSWORD

    response = api_client.post(
        reverse("api-token-obtain"), {"username": "acme-editor", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=editor).key
