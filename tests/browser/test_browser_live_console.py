"""In Chromium with a real worker: a prompt and an image in, the verdict appears in place."""

import pytest
from django.urls import reverse

from tests.browser.conftest import log_in
from tests.images import png_bytes
from tests.policy_admin.factories import KeywordRuleSetFactory
from tests.tenants.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_editor_sees_the_decision_and_highlighted_keyword_without_a_reload(
    page, live_server, celery_worker_process, tenant, policy, editor
):
    KeywordRuleSetFactory(
        policy=policy, name="Weapons", action="review", terms="ak-47", term_count=1
    )
    log_in(page, live_server, "acme-editor", PASSWORD)
    console = reverse("live-console", kwargs={"tenant": "acme", "slug": "default"})
    page.goto(f"{live_server.url}{console}")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    page.get_by_test_id("live-prompt").fill("a soldier holding an AK-47 rifle")
    page.get_by_test_id("live-images").set_input_files(
        files=[{"name": "field.png", "mimeType": "image/png", "buffer": png_bytes((90, 140, 60))}]
    )
    page.get_by_test_id("live-run").click()

    action = page.get_by_test_id("decision-action")
    action.wait_for(timeout=60_000)
    assert action.inner_text().lower() == "review"
    assert page.locator("[data-testid=highlighted-prompt] mark").inner_text() == "AK-47"
    assert page.evaluate("window.__sameDocument") is True
