"""A policy's quality over time and the drift of its scores: what the quality pages and alerts read.

Quality comes from the metrics each finished suite stored when it finished
(nothing is recomputed); drift compares the per-sample category and concept
scores of two runs, or of a window of live tests against a run, with
moderation.analysis.drift (PSI and KS).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.text import capfirst

from kernel.errors import ApplicationError
from moderation.analysis import drift as stats
from moderation.analysis import metrics, plots
from moderation.models import SampleResult, SampleSet, TestRun
from policy_admin.fleet import selectors as selectors_fleet
from policy_admin.models import Channel
from policy_admin.selectors import publishing as selectors_publishing
from tenants.scoping import scoped

MAX_RUNS = 100
RATIOS = ("precision", "recall", "f1")
DRIFT_KINDS = ("category", "concept")
LIVE_WINDOW = 50
MAX_WINDOW = 1000
HISTOGRAM_BINS = 10


def finished_suites(*, policy) -> QuerySet[TestRun]:
    """The policy's finished suite runs, newest first, with their sample sets."""
    return (
        scoped(TestRun, policy.tenant)
        .filter(policy=policy, kind=TestRun.Kind.SUITE, status=TestRun.Status.SUCCEEDED)
        .select_related("sample_set")
        .order_by("-finished_at", "-id")
    )


def run_label(run: TestRun) -> str:
    return f"#{run.pk}"


@dataclass
class SetQuality:
    """One sample set's finished suites (oldest first) and a chart per final-action question."""

    sample_set: SampleSet
    runs: list[TestRun]
    charts: dict[str, plots.LineChart]


def quality_over_time(*, policy) -> list[SetQuality]:
    """Precision, recall and F1 of the final action per finished suite, grouped by sample set."""
    by_set: dict[int, list[TestRun]] = {}
    for run in reversed(finished_suites(policy=policy)[:MAX_RUNS]):
        by_set.setdefault(run.sample_set_id, []).append(run)
    return [
        SetQuality(
            sample_set=runs[0].sample_set,
            runs=runs,
            charts={
                capfirst(metrics.outcome_label(name)): _outcome_chart(runs, name)
                for name in metrics.OUTCOMES
            },
        )
        for runs in sorted(by_set.values(), key=lambda r: r[0].sample_set.name)
    ]


def action_metrics(run: TestRun) -> dict:
    """The run's stored metrics of the final action ({} for a run from before they existed)."""
    return ((run.result or {}).get("metrics") or {}).get("action") or {}


def latency_metrics(run: TestRun) -> dict[str, dict[str, float]]:
    """The run's stored p50/p95 milliseconds per stage ({} for a run without timings)."""
    return ((run.result or {}).get("metrics") or {}).get("latency_ms") or {}


def _outcome_chart(runs: list[TestRun], outcome: str) -> plots.LineChart:
    rows = [action_metrics(run).get(outcome, {}) for run in runs]
    return plots.line_chart(
        [plots.Series(ratio, [row.get(ratio) for row in rows]) for ratio in RATIOS],
        labels=[run_label(r) for r in runs],
        top=1.0,
    )


def latency_over_time(*, policy) -> tuple[list[TestRun], plots.LineChart | None]:
    """p50 (solid) and p95 (dashed) milliseconds per stage of each finished suite, oldest first.

    The percentiles are those stored when the suite finished, from every
    sample's stage timings.
    """
    runs = [r for r in reversed(finished_suites(policy=policy)[:MAX_RUNS]) if latency_metrics(r)]
    if not runs:
        return [], None
    stages = list(dict.fromkeys(s for r in runs for s in latency_metrics(r)))
    series = [
        plots.Series(
            f"{stage} {q}",
            [latency_metrics(r).get(stage, {}).get(q) for r in runs],
            dashed=q == "p95",
            group=stage,
        )
        for stage in stages
        for q in ("p50", "p95")
    ]
    return runs, plots.line_chart(
        series, labels=[run_label(r) for r in runs], width=640, height=220, unit=" ms"
    )


@dataclass
class ChannelHealth:
    """One channel of the policy and its servers, counted as the rollout page counts them."""

    channel: Channel
    summary: selectors_fleet.RolloutSummary


def rollout_health(*, policy) -> list[ChannelHealth]:
    """Every channel of the policy with its servers current, behind, rejecting and stale."""
    return [
        ChannelHealth(
            channel=channel,
            summary=selectors_fleet.rollout_summary(
                channel=channel, rows=selectors_publishing.channel_rollout(channel=channel)
            ),
        )
        for channel in selectors_publishing.channel_list(policy=policy).order_by("name")
    ]


@dataclass
class PolicyQuality:
    """Everything the quality page and the quality API show of one policy."""

    sets: list[SetQuality]
    latency_runs: list[TestRun]
    latency_chart: plots.LineChart | None
    channels: list[ChannelHealth]


def policy_quality(*, policy) -> PolicyQuality:
    """Metrics per sample set over time, latency per stage, and rollout health per channel."""
    latency_runs, latency_chart = latency_over_time(policy=policy)
    return PolicyQuality(
        sets=quality_over_time(policy=policy),
        latency_runs=latency_runs,
        latency_chart=latency_chart,
        channels=rollout_health(policy=policy),
    )


# Drift


def _score_name(rule: dict) -> str:
    if rule["kind"] == "category":
        return f"{rule['explanation']['category']} ({rule['modality']})"
    return f"concept: {rule['rule_name']}"


def decision_scores(decisions: Iterable[dict]) -> dict[str, list[float]]:
    """Every category and concept score in the decisions, by score name; skipped rules left out."""
    scores: dict[str, list[float]] = {}
    for decision in decisions:
        for rule in decision["results"]:
            if rule["kind"] in DRIFT_KINDS and "skipped" not in rule["explanation"]:
                scores.setdefault(_score_name(rule), []).append(float(rule["score"]))
    return scores


def run_score_samples(run: TestRun) -> dict[str, list[float]]:
    """Score name → every value it took in the run (one per sample, or per live input)."""
    if run.kind == TestRun.Kind.LIVE:
        return decision_scores((run.result or {}).get("decisions", []))
    rows = scoped(SampleResult, run.tenant).filter(run=run).values_list("decision", flat=True)
    return decision_scores(rows.iterator(chunk_size=500))


def live_window(*, policy, size: int = LIVE_WINDOW) -> list[TestRun]:
    """The policy's last `size` finished live tests, newest first."""
    return list(
        scoped(TestRun, policy.tenant)
        .filter(policy=policy, kind=TestRun.Kind.LIVE, status=TestRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-id")[:size]
    )


def window_score_samples(runs: Iterable[TestRun]) -> dict[str, list[float]]:
    """The scores of several live tests pooled, by score name."""
    return decision_scores(d for run in runs for d in (run.result or {}).get("decisions", []))


@dataclass(frozen=True)
class ScoreDrift:
    """How far one score moved from the baseline, with both samples for the histogram."""

    name: str
    drift: stats.Drift
    baseline: list[float]
    current: list[float]

    def bars(self) -> list[dict]:
        """Baseline (first) and current (second) shares of each score bin, for the SVG."""
        return plots.pair_histogram(self.baseline, self.current, shares=True, bins=HISTOGRAM_BINS)

    def histogram(self) -> list[dict]:
        """The numbers behind bars(): each bin of [0, 1] with both sides' counts and shares."""
        return [
            {
                "start": i / HISTOGRAM_BINS,
                "end": (i + 1) / HISTOGRAM_BINS,
                "baseline_count": bar["first"],
                "current_count": bar["second"],
                "baseline_share": bar["first"] / len(self.baseline),
                "current_share": bar["second"] / len(self.current),
            }
            for i, bar in enumerate(self.bars())
        ]


def scores_drift(
    baseline: dict[str, list[float]],
    current: dict[str, list[float]],
    *,
    psi_alert: float = stats.PSI_ALERT,
) -> list[ScoreDrift]:
    """PSI and KS of every score present in both samples, the largest PSI first."""
    rows = [
        ScoreDrift(
            name,
            stats.drift(baseline[name], current[name], psi_alert=psi_alert),
            baseline[name],
            current[name],
        )
        for name in baseline.keys() & current.keys()
        if baseline[name] and current[name]
    ]
    return sorted(rows, key=lambda r: (-r.drift.psi, r.name))


def runs_drift(
    baseline: TestRun, current: TestRun, *, psi_alert: float = stats.PSI_ALERT
) -> list[ScoreDrift]:
    """Drift of every category and concept score from the baseline run to the current one."""
    return scores_drift(
        run_score_samples(baseline), run_score_samples(current), psi_alert=psi_alert
    )


def previous_suite(run: TestRun) -> TestRun | None:
    """The policy's finished suite before `run`, on the same sample set when there is one."""
    earlier = finished_suites(policy=run.policy).exclude(pk=run.pk)
    if run.finished_at is not None:
        earlier = earlier.filter(finished_at__lte=run.finished_at)
    return earlier.filter(sample_set=run.sample_set_id).first() or earlier.first()


@dataclass
class DriftComparison:
    """Two sides compared: a baseline suite, and a current suite or a window of live tests."""

    baseline: TestRun
    current: TestRun | None
    live_runs: list[TestRun]
    rows: list[ScoreDrift]
    psi_alert: float = stats.PSI_ALERT
    # Set when the current side is production: its audited decisions since then.
    production_since: dt.datetime | None = None
    production_records: int = 0

    @property
    def flagged(self) -> list[ScoreDrift]:
        return [r for r in self.rows if r.drift.flagged]


def drift_compare(
    *, policy, baseline_id: int | None = None, current_id: int | None = None, window: int = 0
) -> DriftComparison:
    """Drift of the policy's scores: current = a suite (default the newest) or the last `window`
    live tests; baseline = a suite (default the one before the current suite, else the newest).

    An id that is not one of the policy's finished suites raises TestRun.DoesNotExist; a
    comparison that cannot be made yet raises ApplicationError saying what to run.
    """
    suites = finished_suites(policy=policy)
    if not suites.exists():
        raise ApplicationError(
            f"Run a suite of {policy.name} on a sample set, twice (before and after a change, "
            "or after a model update), to compare the distributions of its scores."
        )
    live_runs = live_window(policy=policy, size=window) if window else []
    if window and not live_runs:
        raise ApplicationError(
            f"{policy.name} has no finished live test yet: run a few in the live console, "
            "or compare two suites."
        )
    current = None if window else _pick(suites, current_id)
    baseline = _pick(suites, baseline_id) if baseline_id else _default_baseline(suites, current)
    if baseline is None:
        raise ApplicationError(
            f"{policy.name} has one finished suite: run the suite again to compare, "
            "or compare it with a window of live tests."
        )
    if baseline == current:
        raise ApplicationError("Pick two different runs to compare.")
    current_scores = run_score_samples(current) if current else window_score_samples(live_runs)
    rows = scores_drift(run_score_samples(baseline), current_scores)
    return DriftComparison(baseline=baseline, current=current, live_runs=live_runs, rows=rows)


def _pick(suites: QuerySet[TestRun], pk: int | None) -> TestRun | None:
    return suites.get(pk=pk) if pk else suites.first()


def _default_baseline(suites: QuerySet[TestRun], current: TestRun | None) -> TestRun | None:
    return previous_suite(current) if current else suites.first()
