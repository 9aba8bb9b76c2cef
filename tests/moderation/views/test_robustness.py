"""The robustness report on the keyword set page: started there, shown as tables."""

import html

import pytest
from django.urls import reverse

from moderation.services.robustness import keyword_robustness_execute
from policy_admin.models import KeywordRobustnessReport

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]


def page_url(keyword_set, name="keyword-set", tenant="acme"):
    kwargs = {"tenant": tenant, "slug": keyword_set.policy.slug, "pk": keyword_set.pk}
    return reverse(name, kwargs=kwargs)


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_editor_runs_the_report_from_the_page_and_reads_its_tables(client, keyword_set, editor):
    client.force_login(editor)
    assert "No report yet" in text(client.get(page_url(keyword_set)))
    response = client.post(page_url(keyword_set, "keyword-robustness-start"))
    assert response.status_code == 302
    assert response.url.endswith("#robustness")
    report = KeywordRobustnessReport.objects.get()
    running = text(client.get(page_url(keyword_set)))
    assert "Report queued" in running
    assert 'hx-trigger="every 2s"' in running
    keyword_robustness_execute(report_id=report.pk)
    page = text(client.get(page_url(keyword_set)))
    assert 'data-testid="robustness-operators"' in page
    assert "Look-alike letters" in page
    assert "option off: squeeze_repeats" in page
    assert 'data-testid="robustness-benign"' in page
    assert 'hx-trigger="every 2s"' not in page
    partial = client.get(
        page_url(keyword_set, "keyword-robustness"), headers={"HX-Request": "true"}
    )
    assert 'data-testid="robustness-operators"' in text(partial)


def test_a_changed_set_marks_its_report_out_of_date(client, keyword_set, editor):
    from tests.policy_admin.factories import KeywordRobustnessReportFactory

    KeywordRobustnessReportFactory(keyword_set=keyword_set)
    client.force_login(editor)
    assert 'data-testid="robustness-stale"' not in text(client.get(page_url(keyword_set)))
    keyword_set.terms += "\ndismember"
    keyword_set.save()
    assert 'data-testid="robustness-stale"' in text(client.get(page_url(keyword_set)))


def test_viewer_cannot_start_a_report(client, keyword_set, viewer):
    client.force_login(viewer)
    assert "Run the robustness report" not in text(client.get(page_url(keyword_set)))
    assert client.post(page_url(keyword_set, "keyword-robustness-start")).status_code == 403


def test_another_tenants_keyword_set_is_a_404(client, keyword_set, outsider):
    client.force_login(outsider)
    start = page_url(keyword_set, "keyword-robustness-start", tenant="globex")
    assert client.post(start).status_code == 404
    partial = page_url(keyword_set, "keyword-robustness", tenant="globex")
    assert client.get(partial, headers={"HX-Request": "true"}).status_code == 404
