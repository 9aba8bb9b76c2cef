"""The impact preview: two finished suites on one set, changed samples and metric deltas."""

import pytest
from django.urls import reverse

from kernel.errors import ApplicationError
from moderation.models import SampleResult, TestRun
from moderation.selectors.compare import suite_compare
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import PolicyFactory

pytestmark = pytest.mark.django_db


def metrics(precision):
    one = {"precision": precision, "recall": 0.5, "f1": 0.5}
    return {"metrics": {"action": {"block": one}, "categories": {}}}


def finished(sample_set, actions, precision, status="succeeded"):
    run = TestRun.objects.create(
        tenant=sample_set.tenant,
        policy=PolicyFactory(tenant=sample_set.tenant),
        kind="suite",
        sample_set=sample_set,
        policy_revision=1,
        status=status,
        result=metrics(precision),
    )
    for sample, action in zip(sample_set.samples.order_by("id"), actions, strict=True):
        SampleResult.objects.create(
            tenant=run.tenant, run=run, sample=sample, action=action, decision={}
        )
    return run


@pytest.fixture
def sample_set(tenant):
    sample_set = SampleSetFactory(tenant=tenant)
    for i in range(4):
        SampleFactory(sample_set=sample_set, external_id=f"s{i}")
    return sample_set


def test_changed_samples_are_grouped_by_direction_with_metric_deltas(sample_set):
    before = finished(sample_set, ["allow", "allow", "block", "flag"], 0.5)
    after = finished(sample_set, ["block", "allow", "review", "block"], 0.75)
    comparison = suite_compare(before=before, after=after)
    assert comparison.changed == 3
    assert {k: [r.sample.external_id for r in v] for k, v in comparison.stricter.items()} == {
        "allow → block": ["s0"],
        "flag → block": ["s3"],
    }
    assert [r.sample.external_id for r in comparison.looser["block → review"]] == ["s2"]
    (row,) = comparison.deltas
    assert row["precision"] == {"before": 0.5, "after": 0.75, "delta": 0.25}


def test_unfinished_or_other_set_suites_are_refused(tenant, sample_set):
    done = finished(sample_set, ["allow"] * 4, 0.5)
    running = finished(sample_set, ["allow"] * 4, 0.5, status="running")
    with pytest.raises(ApplicationError, match="has not finished"):
        suite_compare(before=done, after=running)
    other_set = SampleSetFactory(tenant=tenant)
    SampleFactory(sample_set=other_set)
    elsewhere = finished(other_set, ["allow"], 0.5)
    with pytest.raises(ApplicationError, match="different sample sets"):
        suite_compare(before=done, after=elsewhere)


def test_the_compare_page_shows_the_impact_and_hides_other_tenants_runs(
    client, viewer, outsider, sample_set, other_tenant
):
    before = finished(sample_set, ["allow"] * 4, 0.5)
    after = finished(sample_set, ["block", "allow", "allow", "allow"], 0.6)
    compare_url = reverse("suite-compare", kwargs={"tenant": "acme", "pk": after.pk})
    client.force_login(viewer)
    page = client.get(compare_url, {"with": before.pk}).content.decode()
    assert "<strong>1</strong> of" in page
    assert "allow → block (1)" in page
    theirs = SampleSetFactory(tenant=other_tenant)
    SampleFactory(sample_set=theirs)
    foreign = finished(theirs, ["allow"], 0.5)
    missing = client.get(compare_url, {"with": foreign.pk})
    assert missing.status_code == 404
