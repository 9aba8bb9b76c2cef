"""The quality and drift API: the quality pages' numbers as JSON, params checked, tenancy."""

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from moderation.analysis import drift, plots
from moderation.models import TestRun
from moderation.selectors import quality
from tests.moderation.factories import SampleSetFactory, SuiteRunFactory
from tests.moderation.quality_data import (
    CONCEPT,
    HATE,
    VIOLENCE,
    action_metrics,
    decision,
    fleet_of_four,
    suite,
)
from tests.policy_admin.factories import PolicyFactory

pytestmark = pytest.mark.django_db

DEFAULT = {"tenant": "acme", "policy": "default"}
QUALITY = reverse_lazy("policy-quality-quality", kwargs=DEFAULT)
DRIFT = reverse_lazy("policy-quality-drift", kwargs=DEFAULT)


def test_quality_lists_each_sets_finished_suites_with_the_pages_numbers(api_client, viewer, policy):
    clients, regressions = (SampleSetFactory(tenant=policy.tenant, name=n) for n in ("A", "B"))
    first = suite(policy, clients, 30, result=action_metrics(0.5, 0.4))
    second = suite(policy, clients, 20, result=action_metrics(0.75, 0.8), version_number=2)
    suite(policy, clients, 10, status=TestRun.Status.FAILED)
    old = suite(policy, regressions, 5, result={"metrics": {}})  # from before metrics existed
    api_client.force_authenticate(viewer)
    response = api_client.get(QUALITY)
    assert response.status_code == 200
    sets = response.json()["sample_sets"]

    page = quality.policy_quality(policy=policy)
    assert [s["sample_set"] for s in sets] == [
        {"id": s.sample_set.pk, "name": s.sample_set.name} for s in page.sets
    ]
    assert [[r["id"] for r in s["runs"]] for s in sets] == [[first.pk, second.pk], [old.pk]]
    one, two = sets[0]["runs"]
    assert (one["evaluated"], two["evaluated"]) == ("draft r1", "v2")
    stored = second.result["metrics"]
    assert two["block"] == {**stored["action"]["block"], "support": None}
    assert two["flag_or_worse"]["recall"] == 0.8
    assert (
        two["latency_ms"]
        == stored["latency_ms"]
        == {
            "embed": {"p50": 20.0, "p95": 31.0},
            "total": {"p50": 60.0, "p95": 90.0},
        }
    )
    nothing = {"precision": None, "recall": None, "f1": None, "support": None}
    assert sets[1]["runs"][0]["block"] == nothing
    assert sets[1]["runs"][0]["latency_ms"] == {}
    assert response.json()["channels"] == []


def test_quality_reports_support_as_the_suite_stored_it(api_client, viewer, policy):
    metrics = action_metrics(0.5, 0.5)
    metrics["metrics"]["action"]["block"]["support"] = 7
    suite(policy, SampleSetFactory(tenant=policy.tenant), 1, result=metrics)
    api_client.force_authenticate(viewer)
    run = api_client.get(QUALITY).json()["sample_sets"][0]["runs"][0]
    assert run["block"]["support"] == 7


def test_quality_queries_do_not_grow_with_the_runs(api_client, viewer, policy):
    sample_sets = [SampleSetFactory(tenant=policy.tenant) for _ in range(3)]
    api_client.force_authenticate(viewer)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert api_client.get(QUALITY).status_code == 200
        return len(captured)

    suite(policy, sample_sets[0], 9, result=action_metrics(0.5, 0.5))
    few = queries()
    for minutes, sample_set in enumerate(sample_sets * 3):
        suite(policy, sample_set, minutes, result=action_metrics(0.5, 0.5))
    assert queries() == few


def test_quality_counts_each_channels_servers_as_the_page_does(api_client, editor, viewer, policy):
    fleet_of_four(policy, editor)
    api_client.force_authenticate(viewer)
    channels = api_client.get(QUALITY).json()["channels"]
    summary = quality.policy_quality(policy=policy).channels[0].summary
    assert channels == [
        {
            "name": "production",
            "version": 1,
            "servers": summary.servers,
            "current": summary.current,
            "behind": summary.behind,
            "rejecting": summary.rejecting,
            "stale": summary.stale,
            "healthy": False,
        }
    ]
    assert [summary.servers, summary.current, summary.behind, summary.rejecting] == [4, 1, 1, 1]


def test_drift_defaults_to_the_newest_suite_against_the_one_before(api_client, viewer, two_runs):
    baseline, current = two_runs
    api_client.force_authenticate(viewer)
    body = api_client.get(DRIFT).json()
    assert body["baseline"]["id"] == baseline.pk
    assert body["current"]["id"] == current.pk
    assert body["live_runs"] == []
    assert body["psi_alert"] == drift.PSI_ALERT
    expected = {
        "violence (prompt)": (drift.drift(*VIOLENCE), VIOLENCE),
        "hate (prompt)": (drift.drift(*HATE), HATE),
        "concept: Firearm": (drift.drift(*CONCEPT), CONCEPT),
    }
    rows = quality.runs_drift(baseline, current)
    assert [s["name"] for s in body["scores"]] == [r.name for r in rows]  # largest PSI first
    for score in body["scores"]:
        figures, (before, after) = expected[score["name"]]
        assert {k: score[k] for k in ("psi", "ks", "ks_pvalue")} == pytest.approx(
            {"psi": figures.psi, "ks": figures.ks, "ks_pvalue": figures.ks_pvalue}
        )
        assert (score["baseline_n"], score["current_n"]) == (len(before), len(after))
        assert score["flagged"] == figures.flagged
        bins = score["histogram"]
        assert [b["baseline_count"] for b in bins] == plots.histogram(before)
        assert [b["current_count"] for b in bins] == plots.histogram(after)
        assert sum(b["baseline_share"] for b in bins) == pytest.approx(1)
        assert bins[0]["baseline_share"] == plots.histogram(before)[0] / len(before)
        assert (bins[0]["start"], bins[-1]["end"]) == (0, 1)
    assert {s["flagged"] for s in body["scores"]} == {True, False}  # hate stayed put


def test_drift_compares_chosen_suites_and_a_window_of_live_tests(
    api_client, viewer, policy, two_runs
):
    baseline, current = two_runs
    live = TestRun.objects.create(
        tenant=policy.tenant, policy=policy, kind="live", policy_revision=1, status="succeeded",
        finished_at=timezone.now(), result={"decisions": [decision(i, 1) for i in range(8)]},
    )  # fmt: skip
    api_client.force_authenticate(viewer)
    swapped = api_client.get(DRIFT, {"baseline": current.pk, "current": baseline.pk}).json()
    assert (swapped["baseline"]["id"], swapped["current"]["id"]) == (current.pk, baseline.pk)
    windowed = api_client.get(DRIFT, {"current": "live", "window": 5}).json()
    assert windowed["current"] is None
    assert windowed["live_runs"] == [live.pk]
    assert windowed["baseline"]["id"] == current.pk  # the newest suite
    assert all(s["psi"] == 0 for s in windowed["scores"])  # the live test saw current's scores


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"baseline": "abc"}, "baseline", "Pass a whole number"),
        ({"current": "newest"}, "current", "Pass `live` or a whole number"),
        ({"current": "live", "window": "lots"}, "window", "Pass a whole number of live tests"),
        ({"window": 5}, "window", "pass it with current=live"),
        ({"current": "live", "window": 100000}, "window", "1000"),
    ],
)
def test_malformed_drift_params_are_400_saying_what_to_pass(
    api_client, viewer, two_runs, params, field, says
):
    api_client.force_authenticate(viewer)
    response = api_client.get(DRIFT, params)
    assert response.status_code == 400
    assert says in " ".join(response.json()["extra"]["fields"][field])


def test_a_run_that_is_not_a_finished_suite_of_the_policy_is_400(
    api_client, viewer, policy, two_runs
):
    baseline, current = two_runs
    elsewhere = SuiteRunFactory(policy=PolicyFactory(tenant=policy.tenant, slug="kids"))
    failed = SuiteRunFactory(policy=policy, status=TestRun.Status.FAILED)
    api_client.force_authenticate(viewer)
    for params, bad in [({"baseline": elsewhere.pk}, elsewhere), ({"current": failed.pk}, failed)]:
        response = api_client.get(DRIFT, params)
        assert response.status_code == 400
        message = response.json()["message"]
        assert f"Run #{bad.pk} is not a finished suite of Default" in message
        assert f"the newest: {current.pk}, {baseline.pk}" in message
    same = api_client.get(DRIFT, {"baseline": current.pk, "current": current.pk})
    assert (same.status_code, same.json()["message"]) == (
        400,
        "Pick two different runs to compare.",
    )


def test_drift_without_two_suites_says_what_to_run(api_client, viewer, policy):
    api_client.force_authenticate(viewer)
    response = api_client.get(DRIFT)
    assert response.status_code == 400
    assert "Run a suite of Default on a sample set, twice" in response.json()["message"]
    suite(policy, SampleSetFactory(tenant=policy.tenant), 5)
    assert "run the suite again" in api_client.get(DRIFT).json()["message"]


def test_another_tenants_run_and_an_unknown_id_are_the_same_404(
    api_client, viewer, two_runs, other_tenant
):
    theirs = SuiteRunFactory(policy=PolicyFactory(tenant=other_tenant, slug="default"))
    api_client.force_authenticate(viewer)
    for key in ("baseline", "current"):
        their_run = api_client.get(DRIFT, {key: theirs.pk})
        unknown = api_client.get(DRIFT, {key: 987654})
        assert their_run.status_code == unknown.status_code == 404
        said = their_run.json()["message"].replace(str(theirs.pk), "N")
        assert said == unknown.json()["message"].replace("987654", "N")
        assert "finished suite runs" in said


@pytest.mark.parametrize(
    "name", ["policy-quality-quality", "policy-quality-drift", "policy-quality-production"]
)
def test_anonymous_is_401_and_another_tenants_policy_is_404(
    api_client, viewer, outsider, other_tenant, two_runs, name
):
    def url(tenant="acme", policy="default"):
        return reverse(name, kwargs={"tenant": tenant, "policy": policy})

    path = url()
    assert api_client.get(path).status_code == 401
    api_client.force_authenticate(outsider)  # a member of globex only
    assert api_client.get(path).status_code == 404
    PolicyFactory(tenant=other_tenant, slug="theirs")
    api_client.force_authenticate(viewer)
    assert api_client.get(url(policy="theirs")).status_code == 404
    assert api_client.get(url(tenant="globex")).status_code == 404
    assert api_client.get(path).status_code == 200
    assert api_client.post(path, {}).status_code == 403  # a viewer writes nothing


def test_both_endpoints_are_in_the_schema_with_typed_responses(client, viewer):
    client.force_login(viewer)
    schema = yaml.safe_load(client.get(reverse("api-schema")).content)
    paths = schema["paths"]
    # OpenAPI path templates, spelled out: they are what the published schema promises clients.
    for path, component in [
        ("/api/v1/tenants/{tenant}/policies/{policy}/quality/", "PolicyQuality"),
        ("/api/v1/tenants/{tenant}/policies/{policy}/quality/drift/", "Drift"),
    ]:
        content = paths[path]["get"]["responses"]["200"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{component}"}
    drift_params = paths["/api/v1/tenants/{tenant}/policies/{policy}/quality/drift/"]["get"]
    assert {"baseline", "current", "window"} <= {p["name"] for p in drift_params["parameters"]}
    score = schema["components"]["schemas"]["ScoreDrift"]["properties"]
    assert {"psi", "ks", "ks_pvalue", "baseline_n", "current_n", "flagged", "histogram"} <= set(
        score
    )
