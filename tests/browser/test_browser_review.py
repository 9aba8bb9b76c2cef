"""End to end in Chromium: a reviewer labels a queue with the keyboard, the labels become
a sample set."""

import io
import os
import re

import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from moderation.models import ReviewLabel, SampleSet
from moderation.services.review import review_enqueue
from moderation.services.samples import sample_set_create
from policy_admin.models import PolicyVersion
from tests.browser.conftest import log_in
from tests.moderation.production_factories import DecisionRecordFactory
from tests.tenants.factories import PASSWORD

pytestmark = pytest.mark.browser

RULES = [
    {"rule_id": "gore", "kind": "keywords", "action": "block", "score": 1.0, "threshold": 1.0,
     "fired": True},
]  # fmt: skip


def shot(page, name):
    """Keep a screenshot when BROWSER_SHOTS names a folder (for a person to look at)."""
    if folder := os.environ.get("BROWSER_SHOTS"):
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def queue_of_three(policy):
    version = PolicyVersion.objects.create(
        tenant=policy.tenant, policy=policy, number=1, bundle=b"{}", sha256="0" * 64, revision=1
    )
    records = [
        DecisionRecordFactory(version=version, prompt="a beheading video", rules=RULES,
                              thumbnail=_jpeg()),
        DecisionRecordFactory(version=version, prompt="a cat on a sofa"),
        DecisionRecordFactory(version=version, prompt="a knife for sale"),
    ]  # fmt: skip
    review_enqueue(records)
    return records


def _item(page, prompt):
    page.get_by_test_id("review-prompt").filter(has_text=prompt).wait_for()


def test_reviewer_labels_with_the_keyboard_and_labels_become_samples(
    page, live_server, tenant, reviewer, editor, queue_of_three, media
):
    gore, cat, knife = queue_of_three
    log_in(page, live_server, "acme-reviewer", PASSWORD)
    page.goto(live_server.url + reverse("review-queues", kwargs={"tenant": "acme"}))
    page.get_by_test_id("label-default").click()
    # The shortcuts are the page script's: it must listen before the first key.
    page.wait_for_load_state("load")

    _item(page, "a beheading video")
    thumb = page.get_by_test_id("review-thumbnail")
    blurred = re.compile(r"\bblurred\b")
    expect(thumb).to_have_class(blurred)
    assert page.get_by_test_id("explanation").count() == 0  # hidden until answered
    page.keyboard.press("v")
    expect(thumb).not_to_have_class(blurred)
    shot(page, "review-item-revealed")
    page.keyboard.press("b")
    page.keyboard.press("5")  # the fifth category: gore
    page.keyboard.press("Enter")

    _item(page, "a cat on a sofa")
    expect(page.get_by_test_id("explanation")).to_have_count(1)
    page.keyboard.press("a")
    page.keyboard.press("Enter")

    _item(page, "a knife for sale")
    page.keyboard.press("u")  # take back the cat's answer
    _item(page, "a cat on a sofa")
    page.keyboard.press("f")
    page.keyboard.press("Enter")
    _item(page, "a knife for sale")
    page.keyboard.press("s")  # skipped: nothing left for this reviewer
    page.get_by_test_id("review-empty").wait_for()
    shot(page, "review-done")

    labels = {label.record_id: label for label in ReviewLabel.objects.all()}
    assert (labels[gore.pk].action, labels[gore.pk].categories) == ("block", ["gore"])
    assert labels[cat.pk].action == "flag"
    assert knife.pk not in labels
    assert all(label.seconds > 0 for label in labels.values())

    sample_set_create(tenant=tenant, actor=editor, name="From production")
    page.context.clear_cookies()
    log_in(page, live_server, "acme-editor", PASSWORD)
    page.goto(
        live_server.url + reverse("review-queue", kwargs={"tenant": "acme", "queue": "default"})
    )
    page.get_by_test_id("export-form").locator("select[name=sample_set]").select_option(
        label="From production"
    )
    page.get_by_test_id("export").click()
    page.get_by_text("Exported 2 labelled item(s)").wait_for()
    shot(page, "review-exported")
    samples = {
        s.external_id: s for s in SampleSet.objects.get(name="From production").samples.all()
    }
    assert samples[f"decision-{gore.pk}"].expected_action == "block"
    assert samples[f"decision-{gore.pk}"].expected_categories == ["gore"]
    assert samples[f"decision-{gore.pk}"].image
    assert samples[f"decision-{cat.pk}"].expected_action == "flag"
    assert "single" in samples[f"decision-{cat.pk}"].tags
