"""End to end in Chromium: an admin invites an existing account, its owner accepts the link."""

import os
import re

import pytest
from django.urls import reverse

from tenants.models import Membership
from tests.browser.conftest import log_in
from tests.tenants.factories import PASSWORD

pytestmark = pytest.mark.browser


def shot(page, name):
    """Keep a screenshot when BROWSER_SHOTS names a folder (for a person to look at)."""
    if folder := os.environ.get("BROWSER_SHOTS"):
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_an_invited_account_joins_only_when_its_owner_accepts(
    page, live_server, tenant, admin, outsider
):
    log_in(page, live_server, "acme-admin", PASSWORD)
    page.goto(live_server.url + reverse("tenant-members", kwargs={"tenant": "acme"}))
    page.fill("input[name=username]", "globex-admin")
    page.locator("aside select[name=role]").select_option("editor")
    page.get_by_role("button", name="Add member").click()
    page.get_by_test_id("invitation-table").wait_for()
    shot(page, "members-after-invite")
    assert "globex-admin@example.com" not in page.content()
    start = reverse("invitation-accept", kwargs={"token": "token"}).removesuffix("token/")
    link = re.search(rf"https?://\S+{re.escape(start)}[\w-]+/", page.content()).group(0)
    assert not Membership.objects.filter(tenant=tenant, user=outsider).exists()

    page.context.clear_cookies()  # signed out: the invitee signs in next
    log_in(page, live_server, "globex-admin", PASSWORD)
    page.goto(link)
    page.get_by_role("heading", name="Join Acme Images?").wait_for()
    shot(page, "invitation")
    page.get_by_role("button", name="Accept and join").click()
    page.get_by_role("heading", name="Acme Images").wait_for()
    assert "You joined Acme Images as editor." in page.content()
    assert Membership.objects.get(tenant=tenant, user=outsider).role == "editor"
