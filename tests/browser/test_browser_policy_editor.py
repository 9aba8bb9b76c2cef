"""End to end in Chromium: an editor builds a policy and finds every change in its audit log."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.images import png_bytes
from tests.tenants.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("media")]


def set_threshold(page, category, review, block):
    row = page.get_by_test_id(f"threshold-{category}")
    row.get_by_label(re.compile(r"review at$", re.I)).fill(review)
    row.get_by_label(re.compile(r"block at$", re.I)).fill(block)
    row.get_by_role("button", name="Save").click()
    page.get_by_test_id(f"threshold-{category}").get_by_text("Set in this policy").wait_for()


def test_editor_builds_a_policy_and_sees_each_change_in_the_audit_log(
    page, live_server, tenant, editor
):
    log_in(page, live_server, "acme-editor", PASSWORD)
    page.get_by_role("heading", name="Acme Images").wait_for()
    page.get_by_role("link", name="Policies", exact=True).click()
    # The slug is suggested by policy.js, whose listener must be in place before typing.
    page.wait_for_load_state("load")

    page.get_by_label("Name").fill("Kids app")
    expect(page.get_by_label("Slug")).to_have_value("kids-app")
    page.get_by_role("button", name="Create policy").click()
    page.get_by_role("heading", name="Kids app").wait_for()

    # Two inline saves in a row: the second only succeeds if the first
    # propagated the draft's new revision to the other forms of the page.
    set_threshold(page, "violence", "0.4", "0.7")
    set_threshold(page, "gore", "0.3", "0.6")
    assert page.get_by_test_id("revision").inner_text() == "3"

    page.get_by_role("button", name="New keyword set").click()
    page.get_by_label("Name").fill("Weapons")
    page.get_by_role("button", name="Create keyword set").click()
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "weapons.txt", "mimeType": "text/plain", "buffer": b"knife\ngun\nKnife\n"}],
    )
    page.get_by_role("button", name="Import terms").click()
    report = page.get_by_test_id("import-report").inner_text()
    assert "2 terms in the set now · 1 duplicate removed · 0 lines refused" in report

    page.get_by_role("link", name="Kids app").click()
    page.get_by_role("button", name="New embedding set").click()
    page.get_by_label("Name").fill("Violent scenes")
    page.get_by_label("Example phrases").fill("a bloody fight\nsomeone being stabbed")
    page.get_by_role("button", name="Create embedding set").click()
    page.get_by_text("Saved embedding set Violent scenes.").wait_for()

    page.get_by_role("button", name="New concept").click()
    page.get_by_label("Name").fill("Brand logo")
    page.get_by_role("button", name="Create concept").click()
    page.get_by_test_id("needs-positives").wait_for()
    page.set_input_files(
        "input[name=images]",
        files=[
            {"name": f"logo{n}.png", "mimeType": "image/png", "buffer": png_bytes((n * 80, 20, 20))}
            for n in range(3)
        ],
    )
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Added 3 positive example image(s).").wait_for()
    assert page.get_by_test_id("image-counts").inner_text() == "3 positive · 0 negative"
    assert page.get_by_test_id("needs-positives").count() == 0

    page.get_by_role("link", name="Kids app").click()
    page.get_by_role("button", name="Audit log").click()
    page.get_by_role("heading", name="Audit log of Kids app").wait_for()
    log = page.get_by_test_id("audit-events").inner_text()
    for expected in (
        "created policy Kids app",
        "added category threshold violence (both)",
        "added category threshold gore (both)",
        "imported 2 terms into Weapons from weapons.txt",
        "added embedding rule set Violent scenes",
        "added 3 positive example image(s) to Brand logo",
    ):
        assert expected in log, expected
