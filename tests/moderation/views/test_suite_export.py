"""Exports of a finished suite: CSV, JSON and the printable report; unfinished is a 404."""

import csv
import io

import pytest
from django.urls import reverse

from moderation.models import SampleResult, TestRun
from tests.moderation.factories import SampleFactory, SampleSetFactory

pytestmark = pytest.mark.django_db

FIRED = {"kind": "keyword", "rule_name": "Bad words", "fired": True}
METRICS = {
    "action": {"block": {"precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 2,
                         "tp": 1, "fp": 0, "fn": 1, "tn": 1}},
    "categories": {}, "rules": {}, "latency_ms": {"total": {"p50": 1.0, "p95": 2.0}},
}  # fmt: skip


def export_url(run, format):
    return reverse("suite-export", kwargs={"tenant": "acme", "pk": run.pk, "format": format})


@pytest.fixture
def run(tenant, policy):
    sample_set = SampleSetFactory(tenant=tenant, name="golden")
    run = TestRun.objects.create(
        tenant=tenant, policy=policy, kind="suite",
        sample_set=sample_set, policy_revision=1, status="succeeded", progress_total=2,
        result={"metrics": METRICS},
    )  # fmt: skip
    for i, action in enumerate(["block", "allow"]):
        sample = SampleFactory(
            sample_set=sample_set, external_id=f"s{i}", prompt=f"p, {i}", tags=["a", "b"]
        )
        SampleResult.objects.create(
            tenant=tenant, run=run, sample=sample, action=action, timings_ms={"total": 1.5},
            decision={"results": [FIRED] if action == "block" else []},
        )  # fmt: skip
    return run


def test_csv_has_one_row_per_sample_with_lists_joined(client, viewer, run):
    client.force_login(viewer)
    response = client.get(export_url(run, "csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["sample_id"] for r in rows] == ["s0", "s1"]
    assert rows[0]["prompt"] == "p, 0"
    assert rows[0]["fired_rules"] == "Bad words"
    assert rows[0]["tags"] == "a|b"


def test_json_carries_metrics_and_results(client, viewer, run):
    client.force_login(viewer)
    data = client.get(export_url(run, "json")).json()
    assert data["run"]["sample_set"] == "golden"
    assert data["metrics"]["action"]["block"]["recall"] == 0.5
    assert [r["action"] for r in data["results"]] == ["block", "allow"]


def test_printable_report_shows_the_metrics(client, viewer, run):
    client.force_login(viewer)
    url = reverse("suite-report", kwargs={"tenant": "acme", "pk": run.pk})
    page = client.get(url).content.decode()
    assert 'data-testid="suite-report"' in page
    assert "0.667" in page


def test_unfinished_suites_and_other_tenants_export_nothing(client, viewer, outsider, run):
    TestRun.objects.filter(pk=run.pk).update(status="running")
    client.force_login(viewer)
    assert client.get(export_url(run, "csv")).status_code == 404
    client.force_login(outsider)
    assert client.get(export_url(run, "json")).status_code == 404
