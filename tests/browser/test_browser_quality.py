"""In Chromium: the demo policy's quality dashboard plots its suites; drift compares them."""

import pytest
from django.urls import reverse

from moderation.demo.samples import seed_samples
from policy_admin.demo.seed import seed_floor, seed_policy
from tests.browser.conftest import log_in
from tests.tenants.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.models]


def test_the_demo_policy_shows_quality_plots_and_score_drift(
    page, live_server, tenant, editor, viewer, media
):
    seed_floor(actor=editor)
    policy = seed_policy(tenant=tenant, actor=editor)
    # The demo's own history: three real suites with the demo's draft changes between them.
    newest = seed_samples(tenant=tenant, policy=policy, actor=editor, count=30)

    log_in(page, live_server, "acme-viewer", PASSWORD)
    editor_page = reverse("policy-editor", kwargs={"tenant": "acme", "slug": policy.slug})
    page.goto(f"{live_server.url}{editor_page}")
    page.get_by_test_id("open-quality").click()

    charts = page.locator("svg[data-testid=quality-chart]")
    assert charts.count() == 2  # block vs not, flag or worse vs not, of the one demo set
    for i in range(2):
        lines = charts.nth(i).locator("g[data-series]")
        assert lines.count() == 3  # precision, recall, F1
        for n in range(3):
            assert lines.nth(n).locator("circle").count() == 3  # one point per suite
            assert lines.nth(n).locator("path").get_attribute("d").count(" L") == 2
    assert page.get_by_test_id("quality-row").count() == 3
    assert page.locator("svg[data-testid=latency-chart] circle").count() > 0
    assert page.get_by_test_id("rollout-empty").is_visible()

    page.get_by_test_id("open-drift").click()
    summary = page.get_by_test_id("drift-summary").inner_text()
    assert f"suite #{newest.pk}" in summary
    rows = page.get_by_test_id("drift-row")
    assert rows.count() > 1
    assert "concept: Firearm on display" in page.get_by_test_id("drift-table").inner_text()
    histograms = page.locator("svg[data-testid=drift-histogram]")
    assert histograms.count() == rows.count()
    assert histograms.first.locator("rect").count() == 20  # ten bins, two runs
