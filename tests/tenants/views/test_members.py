"""Pages: login, picker, dashboard and member management, for every role and for outsiders."""

import html

import pytest
from django.urls import reverse

from tenants.models import Membership
from tenants.roles import Role
from tests.tenants.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def tenant_pages(tenant, membership_pk):
    return [
        reverse("tenant-dashboard", kwargs={"tenant": tenant.slug}),
        reverse("tenant-members", kwargs={"tenant": tenant.slug}),
        reverse("member-remove", kwargs={"tenant": tenant.slug, "pk": membership_pk}),
    ]


@pytest.fixture
def admin_membership(tenant, admin):
    return Membership.objects.get(user=admin, tenant=tenant)


def test_anonymous_is_sent_to_login_from_every_page(client, tenant, admin_membership):
    for url in [
        reverse("tenant-picker"),
        reverse("api-token"),
        *tenant_pages(tenant, admin_membership.pk),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_other_tenants_pages_are_404(client, tenant, admin_membership, outsider):
    client.force_login(outsider)
    for url in tenant_pages(tenant, admin_membership.pk):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"role": "admin"}).status_code == 404, url


def test_unknown_tenant_slug_is_404(client, editor):
    client.force_login(editor)
    assert (
        client.get(reverse("tenant-dashboard", kwargs={"tenant": "no-such-tenant"})).status_code
        == 404
    )


def test_wrong_password_says_so(client, editor):
    response = client.post(reverse("login"), {"username": "acme-editor", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_login_with_one_tenant_lands_on_its_dashboard(client, tenant, editor):
    response = client.post(
        reverse("login"), {"username": "acme-editor", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("tenant-dashboard", kwargs={"tenant": "acme"})
    assert "You are editor here" in response.content.decode()


def test_picker_lists_only_the_users_tenants(client, tenant, other_tenant):
    from tests.tenants.factories import TenantFactory

    TenantFactory(name="Initech", slug="initech")
    engineer = UserFactory(username="solutions", is_staff=True)
    for t in (tenant, other_tenant):
        MembershipFactory(user=engineer, tenant=t, role=Role.EDITOR)
    client.force_login(engineer)
    body = client.get(reverse("tenant-picker")).content.decode()
    assert "Acme Images" in body
    assert "Globex Kids" in body
    assert "Initech" not in body


def test_dashboard_shows_members_and_role(client, tenant, admin, viewer):
    client.force_login(viewer)
    body = client.get(reverse("tenant-dashboard", kwargs={"tenant": "acme"})).content.decode()
    assert "acme-admin" in body
    assert "You are viewer here" in body


@pytest.mark.parametrize(
    ("role", "status"), [(Role.VIEWER, 403), (Role.EDITOR, 403), (Role.ADMIN, 302)]
)
def test_only_admins_invite_members(client, tenant, role, status):
    user = MembershipFactory(tenant=tenant, role=role).user
    if role != Role.ADMIN:
        MembershipFactory(tenant=tenant, role=Role.ADMIN)
    client.force_login(user)
    url = reverse("tenant-members", kwargs={"tenant": "acme"})
    response = client.post(url, {"username": "newcomer", "role": "viewer"})
    assert response.status_code == status
    if status == 403:
        assert "only the tenant's admins can manage its members" in html.unescape(
            response.content.decode()
        )
        assert not Membership.objects.filter(user__username="newcomer").exists()
    else:
        assert Membership.objects.get(user__username="newcomer").tenant == tenant


def test_invite_shows_the_new_password_once(client, tenant, admin):
    client.force_login(admin)
    url = reverse("tenant-members", kwargs={"tenant": "acme"})
    body = client.post(
        url, {"username": "newcomer", "role": "editor"}, follow=True
    ).content.decode()
    assert "Created newcomer as editor. Their password is" in body
    assert "Created newcomer" not in client.get(url).content.decode()


def test_invite_of_an_existing_member_is_an_error_next_to_the_field(client, tenant, admin, editor):
    client.force_login(admin)
    url = reverse("tenant-members", kwargs={"tenant": "acme"})
    response = client.post(url, {"username": "acme-editor", "role": "viewer"})
    assert response.status_code == 400
    assert "acme-editor is already a member of Acme Images." in response.content.decode()


def test_admin_changes_a_role_with_htmx(client, tenant, admin, editor):
    client.force_login(admin)
    membership = Membership.objects.get(user=editor)
    url = reverse("member-role", kwargs={"tenant": "acme", "pk": membership.pk})
    response = client.post(url, {"role": "viewer"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'id="member-{membership.pk}"' in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


def test_last_admin_cannot_demote_themselves(client, tenant, admin, admin_membership):
    client.force_login(admin)
    url = reverse("member-role", kwargs={"tenant": "acme", "pk": admin_membership.pk})
    response = client.post(url, {"role": "viewer"}, headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "they are the last admin of Acme Images" in response.content.decode()
    admin_membership.refresh_from_db()
    assert admin_membership.role == Role.ADMIN


def test_remove_asks_for_confirmation_then_removes(client, tenant, admin, viewer):
    client.force_login(admin)
    membership = Membership.objects.get(user=viewer)
    url = reverse("member-remove", kwargs={"tenant": "acme", "pk": membership.pk})
    assert "Remove acme-viewer?" in client.get(url).content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()
    client.post(url)
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_last_admin_cannot_be_removed(client, tenant, admin, admin_membership):
    client.force_login(admin)
    url = reverse("member-remove", kwargs={"tenant": "acme", "pk": admin_membership.pk})
    body = client.post(url, follow=True).content.decode()
    assert "they are the last admin of Acme Images" in body
    assert Membership.objects.filter(pk=admin_membership.pk).exists()


def test_viewer_cannot_open_the_remove_page(client, tenant, admin_membership, viewer):
    client.force_login(viewer)
    url = reverse("member-remove", kwargs={"tenant": "acme", "pk": admin_membership.pk})
    assert client.get(url).status_code == 403


def test_member_search(client, tenant, admin, editor, viewer):
    client.force_login(admin)
    url = reverse("tenant-members", kwargs={"tenant": "acme"})
    body = client.get(url, {"q": "edit"}).content.decode()
    assert "acme-editor" in body
    assert "acme-viewer" not in body


def test_member_pages_keep_the_search(client, tenant, admin):
    for n in range(30):
        MembershipFactory(tenant=tenant, user=UserFactory(username=f"bulk-{n}"))
    client.force_login(admin)
    url = reverse("tenant-members", kwargs={"tenant": "acme"})
    body = client.get(url, {"q": "bulk"}).content.decode()
    assert "Page 1 of 2" in body
    assert 'href="?q=bulk&amp;page=2"' in body


def test_api_token_page_issues_and_rotates(client, editor):
    client.force_login(editor)
    url = reverse("api-token")
    assert "You have no token yet." in client.get(url).content.decode()
    client.post(url)
    first = editor.auth_token.key
    client.post(url)
    editor.refresh_from_db()
    assert editor.auth_token.key != first


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_only_admins_change_roles_or_remove(client, tenant, admin_membership, role):
    user = MembershipFactory(tenant=tenant, role=role).user
    client.force_login(user)
    kwargs = {"tenant": "acme", "pk": admin_membership.pk}
    assert client.post(reverse("member-role", kwargs=kwargs), {"role": "viewer"}).status_code == 403
    assert client.post(reverse("member-remove", kwargs=kwargs)).status_code == 403
    admin_membership.refresh_from_db()
    assert admin_membership.role == Role.ADMIN
