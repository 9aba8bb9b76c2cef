"""Sample set and suite pages: rights, outsiders, imports, filters, labels, results."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse, reverse_lazy

from moderation.models import Sample, SampleResult, SampleSet, TestRun
from tests.images import png_bytes
from tests.moderation.factories import SampleFactory, SampleSetFactory, archive
from tests.policy_admin.factories import PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

LIST = reverse_lazy("sample-set-list", kwargs={"tenant": "acme"})


@pytest.fixture
def sample_set(tenant):
    return SampleSetFactory(tenant=tenant, name="golden")


def tenant_url(name, tenant="acme", **kwargs):
    return reverse(name, kwargs={"tenant": tenant, **kwargs})


def set_url(sample_set, name="sample-set", **kwargs):
    """The sample set's page, or another page under it."""
    return tenant_url(name, pk=sample_set.pk, **kwargs)


def test_editor_creates_a_set_and_a_duplicate_name_is_refused(client, editor):
    client.force_login(editor)
    response = client.post(LIST, {"name": "golden", "description": "client A"})
    assert response.status_code == 302
    again = client.post(LIST, {"name": "golden"})
    assert again.status_code == 400
    assert "already exists" in again.content.decode()
    assert SampleSet.objects.count() == 1


def test_viewer_reads_but_cannot_create_or_import(client, viewer, sample_set):
    client.force_login(viewer)
    assert client.get(LIST).status_code == 200
    assert client.post(LIST, {"name": "x"}).status_code == 403
    assert client.post(set_url(sample_set, "sample-set-import")).status_code == 403


def test_another_tenants_set_and_suite_are_404(client, outsider, sample_set):
    sample = SampleFactory(sample_set=sample_set)
    run = TestRun.objects.create(
        tenant=sample_set.tenant,
        policy=PolicyFactory(tenant=sample_set.tenant),
        kind="suite",
        sample_set=sample_set,
        policy_revision=1,
    )
    client.force_login(outsider)
    for url in (set_url(sample_set), tenant_url("suite-run", pk=run.pk)):
        assert client.get(url).status_code == 404
    assert client.get(tenant_url("sample-set", "globex", pk=sample_set.pk)).status_code == 404
    labels = tenant_url("sample-labels", "globex", pk=sample_set.pk, sample_pk=sample.pk)
    assert client.post(labels, {"expected_action": "block"}).status_code == 404
    assert client.get(tenant_url("suite-run", "globex", pk=run.pk)).status_code == 404


def test_import_through_the_page_shows_the_report_and_the_error_csv(client, editor, sample_set):
    client.force_login(editor)
    rows = [
        {"id": "a", "image": "a.png", "prompt": "cat", "expected_action": "allow", "tags": ["x"]},
        {"id": "b", "prompt": "dog", "expected_action": "maybe"},
    ]
    upload = SimpleUploadedFile("s.zip", archive(rows, {"a.png": png_bytes()}))
    response = client.post(
        set_url(sample_set, "sample-set-import"), {"archive": upload}, follow=True
    )
    page = response.content.decode()
    assert "<strong>1</strong> sample imported" in page
    assert "maybe" in page
    assert 'data-testid="import-errors-csv"' in page
    assert 'alt="image of a"' in page
    report = sample_set.imports.get()
    csv_text = client.get(
        set_url(sample_set, "sample-import-errors", import_pk=report.pk)
    ).content.decode()
    assert csv_text.splitlines()[1].startswith("2,b,")


def test_a_file_level_import_error_is_shown_and_nothing_is_written(client, editor, sample_set):
    client.force_login(editor)
    upload = SimpleUploadedFile("s.zip", b"not a zip")
    page = client.post(set_url(sample_set, "sample-set-import"), {"archive": upload}, follow=True)
    assert "Nothing was imported" in page.content.decode()
    assert not Sample.objects.exists()


def test_filters_and_pages_stay_within_a_fixed_number_of_queries(
    client, viewer, sample_set, django_assert_max_num_queries
):
    for i in range(120):
        SampleFactory(
            sample_set=sample_set,
            tags=["edge"] if i % 3 == 0 else [],
            expected_action="block" if i % 2 else "allow",
        )
    client.force_login(viewer)
    with django_assert_max_num_queries(14):
        page = client.get(set_url(sample_set), {"page": 2}).content.decode()
    assert "Page 2 of 3" in page
    filtered = client.get(set_url(sample_set), {"tag": "edge", "label": "block"}).content.decode()
    assert "20 samples match" in filtered


def test_editing_a_label_returns_the_row_and_refuses_unknown_labels(client, editor, sample_set):
    sample = SampleFactory(sample_set=sample_set)
    client.force_login(editor)
    url = set_url(sample_set, "sample-labels", sample_pk=sample.pk)
    ok = client.post(
        url,
        {"expected_action": "review", "expected_categories": "hate", "tags": "a, b"},
        HTTP_HX_REQUEST="true",
    )
    assert ok.status_code == 200
    sample.refresh_from_db()
    assert (sample.expected_action, sample.expected_categories, sample.tags) == (
        "review",
        ["hate"],
        ["a", "b"],
    )
    bad = client.post(url, {"expected_action": "nuke"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400
    assert "not one of allow" in bad.content.decode()


def test_deleting_a_set_asks_first(client, editor, sample_set):
    client.force_login(editor)
    assert "Delete" in client.get(set_url(sample_set, "sample-set-delete")).content.decode()
    assert client.post(set_url(sample_set, "sample-set-delete")).status_code == 302
    assert not SampleSet.objects.exists()


DECISION = {
    "action": "block",
    "calibrated": True,
    "timings_ms": {"keywords": 0.1, "total": 0.2},
    "results": [
        {
            "kind": "keyword",
            "rule_id": "1",
            "rule_name": "Bad words",
            "modality": "prompt",
            "action": "block",
            "fired": True,
            "score": 1.0,
            "threshold": None,
            "explanation": {"matches": [{"span": [0, 4], "term": "kill", "text": "kill"}]},
        }
    ],
}


def test_a_finished_suite_shows_metrics_false_positives_and_their_explanation(
    client, viewer, sample_set
):
    fp = SampleFactory(sample_set=sample_set, external_id="fp-1", prompt="kill time")
    ok = SampleFactory(sample_set=sample_set, external_id="ok-1", expected_action="block")
    run = TestRun.objects.create(
        tenant=sample_set.tenant,
        policy=PolicyFactory(tenant=sample_set.tenant),
        kind="suite",
        sample_set=sample_set,
        policy_revision=1,
        status="succeeded",
        progress_done=2,
        progress_total=2,
        result={
            "metrics": {
                "action": {},
                "categories": {},
                "rules": {},
                "latency_ms": {"total": {"p50": 0.2, "p95": 0.2}},
            }
        },
    )
    for sample in (fp, ok):
        SampleResult.objects.create(
            tenant=run.tenant, run=run, sample=sample, action="block", decision=DECISION
        )
    client.force_login(viewer)
    page = client.get(tenant_url("suite-run", pk=run.pk), {"show": "fp"}).content.decode()
    assert "fp-1" in page
    assert "ok-1" not in page
    result = SampleResult.objects.get(sample=fp)
    explained = client.get(
        tenant_url("suite-sample", pk=run.pk, result_pk=result.pk), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="rule-row"' in explained
    assert '<mark title="matched “kill”">kill</mark>' in explained
