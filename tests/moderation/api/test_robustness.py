"""The robustness API: start a report of a keyword set, read it; another tenant's set is a 404."""

import pytest
from django.urls import reverse

from moderation.services.robustness import keyword_robustness_execute

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]


def url(keyword_set, tenant="acme", pk=None):
    kwargs = {"tenant": tenant, "policy": keyword_set.policy.slug, "set_pk": keyword_set.pk}
    if pk is None:
        return reverse("keyword-robustness-list", kwargs=kwargs)
    return reverse("keyword-robustness-detail", kwargs={**kwargs, "pk": pk})


def test_editor_starts_a_report_and_reads_it(api_client, keyword_set, editor):
    api_client.force_authenticate(editor)
    started = api_client.post(url(keyword_set), {"seed": 9}, format="json")
    assert started.status_code == 202, started.json()
    body = started.json()
    assert (body["status"], body["seed"], body["result"], body["current"]) == (
        "pending",
        9,
        None,
        True,
    )
    again = api_client.post(url(keyword_set), {}, format="json")
    assert again.status_code == 409
    assert "already running" in again.json()["message"]
    keyword_robustness_execute(report_id=body["id"])
    listed = api_client.get(url(keyword_set)).json()
    (report,) = listed["results"]
    assert report["status"] == "succeeded"
    assert {row["name"] for row in report["result"]["operators"]} >= {"case", "homoglyphs"}
    detail = api_client.get(url(keyword_set, pk=body["id"])).json()
    assert detail["result"]["variants"] == report["result"]["variants"]


def test_viewer_reads_but_cannot_start(api_client, keyword_set, viewer):
    api_client.force_authenticate(viewer)
    assert api_client.get(url(keyword_set)).status_code == 200
    assert api_client.post(url(keyword_set), {}, format="json").status_code == 403


def test_another_tenants_keyword_set_is_a_404(api_client, keyword_set, outsider):
    api_client.force_authenticate(outsider)
    assert api_client.get(url(keyword_set, tenant="globex")).status_code == 404
    assert api_client.post(url(keyword_set, tenant="globex"), {}).status_code == 404


def test_a_set_of_another_policy_is_a_404(api_client, keyword_set, editor, tenant):
    from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory

    elsewhere = KeywordRuleSetFactory(policy=PolicyFactory(tenant=tenant, slug="other"))
    api_client.force_authenticate(editor)
    kwargs = {"tenant": "acme", "policy": keyword_set.policy.slug, "set_pk": elsewhere.pk}
    assert api_client.get(reverse("keyword-robustness-list", kwargs=kwargs)).status_code == 404
