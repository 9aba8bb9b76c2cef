"""In Chromium: the page behaviours that live in static/js (no inline script) still work."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.browser.conftest import log_in
from tests.tenants.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_a_confirm_form_submits_only_when_the_question_is_accepted(page, live_server, editor):
    first = Token.objects.create(user=editor).key
    log_in(page, live_server, "acme-editor", PASSWORD)
    page.goto(live_server.url + reverse("api-token"))
    questions = []

    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Issue a new token").click()
    page.wait_for_timeout(300)
    assert questions == ["The current token stops working at once. Issue a new one?"]
    assert Token.objects.get(user=editor).key == first

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Issue a new token").click()
    assert Token.objects.get(user=editor).key != first


def test_the_alert_form_shows_only_the_chosen_kinds_parameters(page, live_server, tenant, editor):
    log_in(page, live_server, "acme-editor", PASSWORD)
    page.goto(live_server.url + reverse("alert-create", kwargs={"tenant": tenant.slug}))
    page.select_option("select[name=kind]", "fleet")
    assert page.locator(".kind-params[data-kind=fleet]").is_visible()
    assert page.locator(".kind-params[data-kind=drift]").is_hidden()
    page.select_option("select[name=kind]", "drift")
    assert page.locator(".kind-params[data-kind=drift]").is_visible()
    assert page.locator(".kind-params[data-kind=fleet]").is_hidden()
