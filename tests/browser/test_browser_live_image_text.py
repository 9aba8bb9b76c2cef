"""In Chromium with a real worker and the real OCR: text in an uploaded image, boxed and marked."""

import pytest
from django.urls import reverse

from tests.browser.conftest import log_in
from tests.images import text_png_bytes
from tests.policy_admin.factories import KeywordRuleSetFactory
from tests.tenants.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_editor_sees_the_box_drawn_and_the_matched_word_marked(
    page, live_server, celery_worker_process, tenant, policy, editor
):
    KeywordRuleSetFactory(policy=policy, name="Gambling", action="block", terms="casino",
                          term_count=1, applies_to="image_text")  # fmt: skip
    log_in(page, live_server, "acme-editor", PASSWORD)
    console = reverse("live-console", kwargs={"tenant": "acme", "slug": "default"})
    page.goto(f"{live_server.url}{console}")
    image = text_png_bytes(["play at the casino", "tonight only"])
    page.get_by_test_id("live-images").set_input_files(
        files=[{"name": "poster.png", "mimeType": "image/png", "buffer": image}]
    )
    page.get_by_test_id("live-run").click()

    action = page.get_by_test_id("decision-action")
    action.wait_for(timeout=90_000)
    assert action.inner_text().lower() == "block"
    assert page.get_by_test_id("ocr-box").count() == 1  # "tonight only": read, not matched
    matched = page.get_by_test_id("ocr-box-matched")
    assert matched.count() == 1
    box = matched.bounding_box()
    assert box["width"] > 100
    assert box["height"] > 10
    assert page.get_by_test_id("ocr-match").inner_text() == "casino"
    word = page.get_by_test_id("ocr-word").bounding_box()
    assert box["x"] + box["width"] / 2 < word["x"] < box["x"] + box["width"]  # the right end
    lines = page.get_by_test_id("ocr-lines").inner_text()
    assert "play at the casino" in lines
    assert "tonight only" in lines
    # The image itself is drawn under the boxes.
    href = page.locator(".image-text-canvas image").get_attribute("href")
    assert page.request.get(f"{live_server.url}{href}").ok
