"""End to end in Chromium: log in, pick a tenant, see the dashboard; outsiders get a 404."""

import pytest
from django.urls import reverse

from tenants.roles import Role
from tests.browser.conftest import log_in
from tests.tenants.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.browser


def test_editor_logs_in_picks_a_tenant_and_sees_the_dashboard(
    page, live_server, tenant, other_tenant, admin
):
    editor = UserFactory(username="solutions", is_staff=True)
    MembershipFactory(user=editor, tenant=tenant, role=Role.EDITOR)
    MembershipFactory(user=editor, tenant=other_tenant, role=Role.VIEWER)

    log_in(page, live_server, "solutions", PASSWORD)
    page.get_by_role("heading", name="Choose a tenant").wait_for()
    page.get_by_role("link", name="Acme Images").click()

    page.get_by_role("heading", name="Acme Images").wait_for()
    assert "You are editor here" in page.content()
    members = page.get_by_test_id("dashboard-members")
    assert "acme-admin" in members.inner_text()


def test_wrong_password_is_reported(page, live_server, editor):
    log_in(page, live_server, "acme-editor", "wrong")
    assert "correct username and password" in page.get_by_test_id("login-error").inner_text()


def test_user_of_another_tenant_gets_404_for_the_dashboard(page, live_server, tenant, outsider):
    log_in(page, live_server, "globex-admin", PASSWORD)
    page.get_by_role("heading", name="Globex Kids").wait_for()
    dashboard = reverse("tenant-dashboard", kwargs={"tenant": tenant.slug})
    response = page.goto(f"{live_server.url}{dashboard}")
    assert response.status == 404
    assert "Acme Images" not in page.content()
