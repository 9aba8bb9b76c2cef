"""In Chromium with a real worker: import a zip, run a suite, watch it finish, explain a miss."""

import pytest

from tests.browser.conftest import log_in
from tests.moderation.factories import SampleSetFactory, archive, png_bytes
from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory
from tests.tenants.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.worker]


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


def test_import_run_watch_progress_and_explain_a_false_positive(
    page, live_server, celery_worker_process, tenant, editor
):
    policy = PolicyFactory(tenant=tenant, slug="default", name="Default")
    KeywordRuleSetFactory(
        policy=policy, name="Banned", action="block", terms="forbidden", term_count=1
    )
    sample_set = SampleSetFactory(tenant=tenant, name="client samples")
    log_in(page, live_server, "acme-editor", PASSWORD)
    page.goto(f"{live_server.url}/t/acme/samples/{sample_set.pk}/")

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
