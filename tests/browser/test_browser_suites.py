"""In Chromium: import a zip, add a sample by hand, run suites (draft and version), compare."""

import pytest
from django.urls import reverse

from policy_admin.services.publishing import channel_promote, policy_publish
from tests.browser.conftest import log_in
from tests.images import png_bytes
from tests.moderation.factories import SampleFactory, SampleSetFactory, archive
from tests.policy_admin.factories import KeywordRuleSetFactory
from tests.tenants.factories import PASSWORD

pytestmark = [pytest.mark.browser]


def set_page(live_server, sample_set):
    path = reverse("sample-set", kwargs={"tenant": "acme", "pk": sample_set.pk})
    return f"{live_server.url}{path}"


def manifest():
    rows = [
        {"id": f"ok-{i}", "prompt": f"a kitten {i}", "expected_action": "allow"} for i in range(12)
    ]
    rows += [
        {"id": f"bad-{i}", "prompt": f"forbidden scene {i}", "expected_action": "block"}
        for i in range(6)
    ]
    rows.append({"id": "fp-1", "prompt": "forbidden fruit pie", "expected_action": "allow"})
    rows.append({"id": "img-1", "image": "a.png", "expected_action": "allow"})
    return archive(rows, {"a.png": png_bytes((20, 120, 200))})


@pytest.mark.worker
def test_import_run_watch_progress_and_explain_a_false_positive(
    page, live_server, celery_worker_process, tenant, policy, editor
):
    KeywordRuleSetFactory(
        policy=policy, name="Banned", action="block", terms="forbidden", term_count=1
    )
    sample_set = SampleSetFactory(tenant=tenant, name="client samples")
    log_in(page, live_server, "acme-editor", PASSWORD)
    page.goto(set_page(live_server, sample_set))

    page.locator("input[name=archive]").set_input_files(
        files=[{"name": "samples.zip", "mimeType": "application/zip", "buffer": manifest()}]
    )
    page.locator("[data-testid=sample-import] button[type=submit]").click()
    assert "20 samples imported" in page.get_by_test_id("import-report").inner_text()

    page.locator("[data-testid=suite-start] button[type=submit]").click()
    done = "[data-testid=suite-progress][data-status=succeeded], [data-status=failed]"
    page.locator(done).wait_for(timeout=90_000)
    assert page.get_by_test_id("suite-status").inner_text() == "Finished", page.content()
    bar = page.get_by_test_id("suite-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "20"

    page.get_by_test_id("suite-results-link").click()
    page.get_by_test_id("show-fp").click()
    rows = page.get_by_test_id("result-row")
    assert rows.count() == 1
    assert "fp-1" in rows.first.inner_text()
    rows.first.get_by_test_id("explain").click()
    explanation = page.get_by_test_id("explanation")
    explanation.wait_for()
    assert "forbidden" in explanation.locator("mark").inner_text().lower()
    assert "Banned" in explanation.get_by_test_id("rule-row").first.inner_text()


def test_add_one_sample_by_upload_and_see_a_duplicate_refused(
    page, live_server, tenant, editor, media
):
    sample_set = SampleSetFactory(tenant=tenant, name="by hand")
    log_in(page, live_server, "acme-editor", PASSWORD)
    page.goto(set_page(live_server, sample_set))

    def add():
        form = page.get_by_test_id("sample-add")
        form.locator("textarea[name=prompt]").fill("a red square")
        form.get_by_test_id("sample-add-image").set_input_files(
            files=[{"name": "red.png", "mimeType": "image/png", "buffer": png_bytes()}]
        )
        form.locator("select[name=expected_action]").select_option("review")
        form.locator("input[name=expected_categories]").fill("violence")
        form.locator("input[name=tags]").fill("manual")
        form.locator("button[type=submit]").click()

    add()
    rows = page.get_by_test_id("sample-row")
    assert rows.count() == 1
    assert "a red square" in rows.first.inner_text()
    assert rows.first.locator("img").get_attribute("alt").startswith("image of manual-")
    assert rows.first.locator("select[name=expected_action]").input_value() == "review"
    assert "Added manual-" in page.content()

    add()
    error = page.get_by_test_id("sample-add-error")
    assert "duplicate of sample manual-" in error.inner_text()
    assert page.get_by_test_id("sample-row").count() == 1


@pytest.mark.worker
def test_run_a_suite_on_a_published_version_then_preview_the_drafts_impact(
    page, live_server, celery_worker_process, tenant, policy, editor, fleet_isolated
):
    KeywordRuleSetFactory(policy=policy, name="Banned", action="block", terms="forbidden")
    version = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    channel_promote(policy=policy, actor=editor, channel="production", number=version.number)
    KeywordRuleSetFactory(policy=policy, name="Later", action="block", terms="smuggled")
    sample_set = SampleSetFactory(tenant=tenant, name="client samples")
    for external_id, prompt in (("old", "forbidden"), ("new", "smuggled"), ("ok", "a kitten")):
        SampleFactory(sample_set=sample_set, external_id=external_id, prompt=prompt)
    log_in(page, live_server, "acme-editor", PASSWORD)
    done = "[data-testid=suite-progress][data-status=succeeded], [data-status=failed]"

    page.goto(set_page(live_server, sample_set))
    page.get_by_test_id("suite-version").select_option(label="Version 1 (production)")
    page.locator("[data-testid=suite-start] button[type=submit]").click()
    page.locator(done).wait_for(timeout=90_000)
    assert "Default v1 (built from revision" in page.get_by_test_id("suite-title").inner_text()
    assert page.get_by_test_id("suite-status").inner_text() == "Finished", page.content()

    page.goto(set_page(live_server, sample_set))
    page.locator("[data-testid=suite-start] button[type=submit]").click()  # the draft
    page.locator(done).wait_for(timeout=90_000)
    assert "Default draft" in page.get_by_test_id("suite-title").inner_text()
    page.reload()
    page.get_by_test_id("impact-preview").locator("a").click()
    assert "(v1," in page.get_by_test_id("compare-title").inner_text()
    assert page.get_by_test_id("compare-group").all_inner_texts() == ["allow → block (1)"]
    assert "new" in page.locator("main").inner_text()
