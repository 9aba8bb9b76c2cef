"""A policy's quality dashboard and drift page: plots, tables, empty states, tenancy."""

import re

import pytest
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from moderation.analysis import drift
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

DEFAULT = {"tenant": "acme", "slug": "default"}
PAGE = reverse_lazy("policy-quality", kwargs=DEFAULT)
DRIFT = reverse_lazy("policy-drift", kwargs=DEFAULT)


def suite_url(run):
    return reverse("suite-run", kwargs={"tenant": "acme", "pk": run.pk})


def test_the_dashboard_plots_every_finished_suite_per_sample_set(client, viewer, policy):
    clients, regressions = (SampleSetFactory(tenant=policy.tenant, name=n) for n in ("A", "B"))
    first = suite(policy, clients, 30, result=action_metrics(0.5, 0.4))
    second = suite(policy, clients, 20, result=action_metrics(0.75, 0.8), version_number=2)
    suite(policy, clients, 10, status=TestRun.Status.FAILED)  # not finished: left out
    suite(policy, regressions, 5, result=action_metrics(1.0, 1.0))
    client.force_login(viewer)
    page = client.get(PAGE).content.decode()

    sets = [s.split("</article>")[0] for s in page.split('data-testid="quality-set"')[1:]]
    assert [re.search(r">(\w)</a>", s).group(1) for s in sets] == ["A", "B"]
    # Two charts per set (block, flag or worse), three lines each, one point per finished run.
    assert sets[0].count('data-testid="quality-chart"') == 2
    assert sets[0].count('data-series="precision"') == 2
    assert sets[0].count("<circle") == 2 * 3 * 2
    assert sets[1].count("<circle") == 2 * 3 * 1
    assert "precision #" + str(first.pk) + ": 0.500" in sets[0]
    rows = sets[0].split('data-testid="quality-row"')[1:]
    assert len(rows) == 2
    assert suite_url(first) in rows[0]
    assert suite_url(second) in rows[1]
    assert "draft r1" in rows[0]  # what each suite evaluated: the draft, or a published version
    assert "v2" in rows[1]
    assert "<td>0.750</td>" in rows[1]
    assert "<td>0.800</td>" in rows[1]
    latency = page.split('data-testid="latency-chart"')[1].split("</svg>")[0]
    assert latency.count('data-series="total p95"') == 1
    assert 'stroke-dasharray="5 3"' in latency
    assert latency.count("<circle") == 3 * 4  # three runs, two stages, p50 and p95


def test_the_dashboard_says_what_to_do_when_there_is_nothing_yet(client, viewer, policy):
    client.force_login(viewer)
    page = client.get(PAGE).content.decode()
    assert "Run a suite on a sample set to see quality over time" in page
    assert 'data-testid="latency-empty"' in page
    assert "publish a version and point a channel at it" in page
    drift_page = client.get(DRIFT).content.decode()
    assert "Run a suite of Default on a sample set, twice" in drift_page
    assert 'data-testid="drift-table"' not in drift_page


def test_rollout_health_counts_servers_as_the_rollout_page_does(client, editor, viewer, policy):
    fleet_of_four(policy, editor)
    client.force_login(viewer)
    page = client.get(PAGE).content.decode()
    row = page.split('data-testid="channel-production"')[1].split("</tr>")[0]
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    # runs, servers, current, behind, rejecting, stale
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in cells[1:]] == ["v1", "4", "1", "1", "1", "1"]
    url = reverse("policy-channel", kwargs={**DEFAULT, "channel": "production"})
    assert f"{url}#rollout" in row
    channel_page = client.get(url).content.decode()
    assert "1 of 4 servers run the channel" in channel_page


def test_the_drift_table_equals_drift_of_the_scores_taken_by_hand(client, viewer, two_runs):
    baseline, current = two_runs
    expected = {
        "violence (prompt)": drift.drift(*VIOLENCE),
        "hate (prompt)": drift.drift(*HATE),
        "concept: Firearm": drift.drift(*CONCEPT),
    }
    rows = quality.runs_drift(baseline, current)
    assert {r.name: r.drift for r in rows} == expected  # gore is in one run only: left out
    assert [r.drift.psi for r in rows] == sorted((d.psi for d in expected.values()), reverse=True)

    client.force_login(viewer)
    page = client.get(DRIFT).content.decode()  # defaults: newest suite against the one before
    assert f'Baseline <a href="{suite_url(baseline)}">' in page
    assert f'against <a href="{suite_url(current)}">' in page
    table = page.split('data-testid="drift-table"')[1].split("</table>")[0]
    shown = table.split('data-testid="drift-row"')[1:]
    assert [re.search(r'#score-\d+">(.*?)</a>', row).group(1) for row in shown] == [
        r.name for r in rows
    ]
    for row in shown:
        name = re.search(r'#score-\d+">(.*?)</a>', row).group(1)
        assert f'data-testid="psi">{expected[name].psi:.4f}<' in row
        assert f'data-testid="ks">{expected[name].ks:.4f}<' in row
        assert ('data-testid="drift-flag"' in row) == (expected[name].psi > drift.PSI_ALERT)
    assert expected["violence (prompt)"].flagged
    assert not expected["hate (prompt)"].flagged
    assert page.count('data-testid="drift-histogram"') == 3


def test_the_drift_page_compares_chosen_runs_and_live_tests(client, viewer, policy, two_runs):
    baseline, current = two_runs
    live = TestRun.objects.create(
        tenant=policy.tenant, policy=policy, kind="live", policy_revision=1, status="succeeded",
        finished_at=timezone.now(), result={"decisions": [decision(i, 1) for i in range(8)]},
    )  # fmt: skip
    client.force_login(viewer)
    swapped = client.get(DRIFT, {"baseline": current.pk, "current": baseline.pk}).content.decode()
    assert f'Baseline <a href="{suite_url(current)}">' in swapped
    windowed = client.get(DRIFT, {"current": "live", "window": 5}).content.decode()
    assert "against the last 1 live test:" in windowed
    violence = quality.scores_drift(
        quality.run_score_samples(current), quality.window_score_samples([live])
    )
    assert all(r.drift.psi == 0 for r in violence)  # the live test saw the current run's scores
    same = client.get(DRIFT, {"baseline": current.pk, "current": current.pk}).content.decode()
    assert "Pick two different runs to compare." in same


def test_one_suite_is_not_enough_to_compare_and_the_page_says_so(client, viewer, policy):
    suite(policy, SampleSetFactory(tenant=policy.tenant), 5)
    client.force_login(viewer)
    page = client.get(DRIFT).content.decode()
    assert "has one finished suite: run the suite again to compare" in page
    assert (
        "has no finished live test yet" in client.get(DRIFT, {"current": "live"}).content.decode()
    )


@pytest.mark.parametrize("name", ["policy-quality", "policy-drift"])
def test_another_tenants_policy_is_404_and_anonymous_goes_to_login(
    client, viewer, outsider, other_tenant, policy, name
):
    def url(tenant="acme", slug="default"):
        return reverse(name, kwargs={"tenant": tenant, "slug": slug})

    path = url()
    assert client.get(path).status_code == 302
    client.force_login(outsider)
    assert client.get(path).status_code == 404
    PolicyFactory(tenant=other_tenant, slug="theirs")
    client.force_login(viewer)
    assert client.get(url(slug="theirs")).status_code == 404
    assert client.get(url(tenant="globex")).status_code == 404
    assert client.get(path).status_code == 200


def test_another_tenants_run_id_is_404_on_the_drift_page(client, viewer, two_runs, other_tenant):
    theirs = SuiteRunFactory(policy=PolicyFactory(tenant=other_tenant, slug="default"))
    client.force_login(viewer)
    assert client.get(DRIFT, {"baseline": theirs.pk}).status_code == 404
    assert client.get(DRIFT, {"current": theirs.pk}).status_code == 404


def test_the_policy_page_links_to_quality(client, viewer, policy):
    client.force_login(viewer)
    page = client.get(reverse("policy-editor", kwargs=DEFAULT)).content.decode()
    assert f'href="{PAGE}"' in page


# Production -------------------------------------------------------------------


def production_section(page: str) -> str:
    return page.split('data-testid="production"')[1].split("</section>")[0]


def test_the_page_shows_production_decisions_backlog_and_audit_estimates(client, viewer, v1):
    from tests.moderation.production_data import audited_blocks, counts
    from tests.moderation.production_factories import DecisionRecordFactory, ReviewItemFactory

    counts(
        v1.policy,
        [(3, "production", 1, "allow", 90), (1, "production", 1, "review", 10)],
    )
    audited_blocks(v1, true_blocks=3, false_blocks=1)
    ReviewItemFactory(record=DecisionRecordFactory(version=v1))
    client.force_login(viewer)

    section = production_section(client.get(PAGE).content.decode())

    assert 'data-testid="production-chart"' in section
    assert 'data-series="allow"' in section
    assert section.count('data-testid="production-row"') == 1
    assert "10.0% of 100 decisions were sent to review" in section
    assert "1 item waits in the review queues" in section
    block = section.split('data-testid="estimate-block"')[1].split("</tr>")[0]
    assert "0.750 (0.301–0.954)" in block  # 3 of 4, equal weights: the textbook Wilson interval
    assert "<td>4</td>" in block
    assert "are not a random sample and are not counted" in section


def test_the_production_section_says_what_to_do_when_nothing_came_back(client, viewer, policy):
    client.force_login(viewer)
    section = production_section(client.get(PAGE).content.decode())
    assert 'data-testid="production-empty"' in section
    assert "No item waits in the review queues." in section
    assert "no audited decision yet" in section


def test_the_drift_page_compares_a_suite_with_productions_audited_decisions(
    client, viewer, policy, two_runs
):
    from policy_admin.services.publishing import policy_publish
    from tests.moderation.production_factories import DecisionRecordFactory
    from tests.policy_admin.factories import KeywordRuleSetFactory

    baseline, _ = two_runs
    KeywordRuleSetFactory(policy=policy, name="Blood", terms="blood", term_count=1)
    version = policy_publish(policy=policy, actor=viewer, revision=policy.revision)
    client.force_login(viewer)
    empty = client.get(DRIFT, {"current": "production"}).content.decode()
    assert "No audited production decision" in empty
    for score in (0.1, 0.2, 0.3, 0.9, 0.95):
        DecisionRecordFactory(
            version=version, audited=True, inclusion_probability=0.1, reasons=["audit"],
            scores={"violence": score},
        )  # fmt: skip
    DecisionRecordFactory(version=version, scores={"violence": 0.99})  # review band: left out
    page = client.get(DRIFT, {"current": "production", "baseline": baseline.pk, "hours": 2})
    body = page.content.decode()
    assert "production: up to 5 audited decisions since" in body
    assert f'Baseline <a href="{suite_url(baseline)}">' in body
    assert 'data-testid="drift-table"' in body
