"""The suites API: sample sets, import, labels, suite start/cancel/results/compare, tenancy."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from moderation.models import SampleResult, TestRun
from tests.moderation.factories import SampleFactory, SampleSetFactory, archive
from tests.policy_admin.factories import PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued", "media")]


def api(name, tenant="acme", **kwargs):
    return reverse(name, kwargs={"tenant": tenant, **kwargs})


def test_editor_creates_imports_filters_and_relabels(api_client, editor):
    api_client.force_authenticate(editor)
    created = api_client.post(api("api-sample-set-list"), {"name": "golden"}, format="json")
    assert created.status_code == 201, created.json()
    set_id = created.json()["id"]
    rows = [
        {"id": "a", "prompt": "x", "expected_action": "block", "tags": ["edge"]},
        {"id": "b", "prompt": "y", "expected_action": "bad"},
    ]
    upload = SimpleUploadedFile("s.zip", archive(rows))
    report = api_client.post(api("api-sample-set-import-archive", pk=set_id), {"archive": upload})
    assert report.status_code == 201
    assert report.json()["imported"] == 1
    assert report.json()["errors"][0]["id"] == "b"
    listed = api_client.get(api("api-sample-list", set_pk=set_id), {"tag": "edge"}).json()
    assert [r["external_id"] for r in listed["results"]] == ["a"]
    sample_id = listed["results"][0]["id"]
    patched = api_client.patch(
        api("api-sample-labels", set_pk=set_id, pk=sample_id),
        {"expected_action": "review", "expected_categories": ["nope"]},
        format="json",
    )
    assert patched.status_code == 400
    assert "Unknown category nope" in str(patched.json())
    duplicate = api_client.post(api("api-sample-set-list"), {"name": "golden"}, format="json")
    assert duplicate.status_code == 409


def test_suite_start_results_cancel_and_compare(api_client, editor, tenant, policy, queued):
    sample_set = SampleSetFactory(tenant=tenant)
    sample = SampleFactory(sample_set=sample_set, expected_action="allow")
    api_client.force_authenticate(editor)
    started = api_client.post(
        api("api-suite-list"), {"sample_set": sample_set.pk, "policy": "default"}, format="json"
    )
    assert started.status_code == 202
    run_id = started.json()["id"]
    assert started.json()["progress_total"] == 1
    assert api_client.post(api("api-suite-cancel", pk=run_id)).json()["status"] == "cancelled"
    assert api_client.post(api("api-suite-cancel", pk=run_id)).status_code == 409

    finished = []
    for action in ("allow", "block"):
        run = TestRun.objects.create(
            tenant=tenant, policy_id=TestRun.objects.get(pk=run_id).policy_id, kind="suite",
            sample_set=sample_set, policy_revision=1, status="succeeded", result={"metrics": {}},
        )  # fmt: skip
        SampleResult.objects.create(
            tenant=tenant, run=run, sample=sample, action=action, decision={"results": []}
        )
        finished.append(run)
    fps = api_client.get(api("api-suite-results", pk=finished[1].pk), {"show": "fp"}).json()
    assert [r["sample"] for r in fps["results"]] == [sample.external_id]
    impact = api_client.get(api("api-suite-compare", pk=finished[1].pk), {"with": finished[0].pk})
    assert impact.json()["stricter"] == {"allow → block": [sample.external_id]}


def test_viewer_cannot_write_and_outsider_gets_404(api_client, viewer, outsider, tenant):
    sample_set = SampleSetFactory(tenant=tenant)
    api_client.force_authenticate(viewer)
    assert api_client.get(api("api-sample-set-list")).status_code == 200
    assert api_client.post(api("api-sample-set-list"), {"name": "x"}).status_code == 403
    api_client.force_authenticate(outsider)
    assert api_client.get(api("api-sample-set-detail", pk=sample_set.pk)).status_code == 404
    assert api_client.get(api("api-sample-list", "globex", set_pk=sample_set.pk)).status_code == 404
    PolicyFactory(tenant=outsider.memberships.get().tenant, slug="p")
    foreign = api_client.post(
        api("api-suite-list", "globex"), {"sample_set": sample_set.pk, "policy": "p"}, format="json"
    )
    assert foreign.status_code == 404


def test_sample_set_list_query_count_does_not_grow(
    api_client, viewer, tenant, django_assert_max_num_queries
):
    for _ in range(5):
        SampleFactory(sample_set=SampleSetFactory(tenant=tenant))
    api_client.force_authenticate(viewer)
    with django_assert_max_num_queries(6):
        assert len(api_client.get(api("api-sample-set-list")).json()["results"]) == 5
