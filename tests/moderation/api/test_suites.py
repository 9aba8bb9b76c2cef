"""The suites API: sample sets, import, labels, suite start/cancel/results/compare, tenancy."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from moderation.models import SampleResult, TestRun
from tests.moderation.factories import SampleFactory, SampleSetFactory, archive
from tests.policy_admin.factories import PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued", "media")]

API = "/api/v1/tenants/acme/"


def test_editor_creates_imports_filters_and_relabels(api_client, editor):
    api_client.force_authenticate(editor)
    created = api_client.post(f"{API}sample-sets/", {"name": "golden"}, format="json")
    assert created.status_code == 201, created.json()
    set_id = created.json()["id"]
    rows = [
        {"id": "a", "prompt": "x", "expected_action": "block", "tags": ["edge"]},
        {"id": "b", "prompt": "y", "expected_action": "bad"},
    ]
    upload = SimpleUploadedFile("s.zip", archive(rows))
    report = api_client.post(f"{API}sample-sets/{set_id}/import/", {"archive": upload})
    assert report.status_code == 201
    assert report.json()["imported"] == 1
    assert report.json()["errors"][0]["id"] == "b"
    listed = api_client.get(f"{API}sample-sets/{set_id}/samples/", {"tag": "edge"}).json()
    assert [r["external_id"] for r in listed["results"]] == ["a"]
    sample_id = listed["results"][0]["id"]
    patched = api_client.patch(
        f"{API}sample-sets/{set_id}/samples/{sample_id}/labels/",
        {"expected_action": "review", "expected_categories": ["nope"]},
        format="json",
    )
    assert patched.status_code == 400
    assert "Unknown category nope" in str(patched.json())
    duplicate = api_client.post(f"{API}sample-sets/", {"name": "golden"}, format="json")
    assert duplicate.status_code == 409


def test_suite_start_results_cancel_and_compare(api_client, editor, tenant, queued):
    sample_set = SampleSetFactory(tenant=tenant)
    sample = SampleFactory(sample_set=sample_set, expected_action="allow")
    PolicyFactory(tenant=tenant, slug="default")
    api_client.force_authenticate(editor)
    started = api_client.post(
        f"{API}suites/", {"sample_set": sample_set.pk, "policy": "default"}, format="json"
    )
    assert started.status_code == 202
    run_id = started.json()["id"]
    assert started.json()["progress_total"] == 1
    assert api_client.post(f"{API}suites/{run_id}/cancel/").json()["status"] == "cancelled"
    assert api_client.post(f"{API}suites/{run_id}/cancel/").status_code == 409

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
    fps = api_client.get(f"{API}suites/{finished[1].pk}/results/", {"show": "fp"}).json()
    assert [r["sample"] for r in fps["results"]] == [sample.external_id]
    impact = api_client.get(f"{API}suites/{finished[1].pk}/compare/", {"with": finished[0].pk})
    assert impact.json()["stricter"] == {"allow → block": [sample.external_id]}


def test_viewer_cannot_write_and_outsider_gets_404(api_client, viewer, outsider, tenant):
    sample_set = SampleSetFactory(tenant=tenant)
    api_client.force_authenticate(viewer)
    assert api_client.get(f"{API}sample-sets/").status_code == 200
    assert api_client.post(f"{API}sample-sets/", {"name": "x"}).status_code == 403
    api_client.force_authenticate(outsider)
    assert api_client.get(f"{API}sample-sets/{sample_set.pk}/").status_code == 404
    theirs = "/api/v1/tenants/globex/"
    assert api_client.get(f"{theirs}sample-sets/{sample_set.pk}/samples/").status_code == 404
    PolicyFactory(tenant=outsider.memberships.get().tenant, slug="p")
    foreign = api_client.post(
        f"{theirs}suites/", {"sample_set": sample_set.pk, "policy": "p"}, format="json"
    )
    assert foreign.status_code == 404


def test_sample_set_list_query_count_does_not_grow(
    api_client, viewer, tenant, django_assert_max_num_queries
):
    for _ in range(5):
        SampleFactory(sample_set=SampleSetFactory(tenant=tenant))
    api_client.force_authenticate(viewer)
    with django_assert_max_num_queries(6):
        assert len(api_client.get(f"{API}sample-sets/").json()["results"]) == 5
