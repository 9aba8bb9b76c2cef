"""Comparing two finished suite runs on one sample set: what changed, and the metric deltas."""

from dataclasses import dataclass, field

from kernel.errors import ApplicationError
from moderation.engine.decision import Action
from moderation.models import SampleResult, TestRun
from moderation.selectors.runs import run_get, suite_impact_baseline
from tenants.scoping import scoped

RATIOS = ("precision", "recall", "f1")


@dataclass
class Comparison:
    """Samples whose action moved, grouped like "allow → block", and metric deltas."""

    before: TestRun
    after: TestRun
    stricter: dict[str, list] = field(default_factory=dict)
    looser: dict[str, list] = field(default_factory=dict)
    deltas: list[dict] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(len(v) for v in (*self.stricter.values(), *self.looser.values()))


def suite_compare_with(*, run: TestRun, other_id: int | None = None) -> TestRun:
    """The suite that `run` is compared with: suite `other_id`, or else its impact baseline.

    `other_id` must name one of the tenant's suites (TestRun.DoesNotExist, a 404,
    otherwise). Without it, a draft suite is compared with the newest finished suite
    of the latest published version on its set; when there is none, ApplicationError
    says what to run.
    """
    if other_id is not None:
        return run_get(tenant=run.tenant, pk=other_id, kind=TestRun.Kind.SUITE)
    baseline = suite_impact_baseline(run=run)
    if baseline is None:
        raise ApplicationError(
            "There is no finished suite of this policy's latest published version on this "
            "sample set to compare with. Run one (choose the version when you run a suite), "
            "or choose another finished suite of this set to compare with."
        )
    return baseline


def suite_compare(*, before: TestRun, after: TestRun) -> Comparison:
    """Compare two of a tenant's finished suites on the same set; refuses any other pair."""
    for run in (before, after):
        if run.kind != TestRun.Kind.SUITE or run.status != TestRun.Status.SUCCEEDED:
            raise ApplicationError(f"Suite #{run.pk} has not finished; compare finished suites.")
    if before.sample_set_id != after.sample_set_id:
        raise ApplicationError("These suites ran on different sample sets; nothing to compare.")
    comparison = Comparison(before=before, after=after, deltas=_deltas(before, after))
    was = dict(
        scoped(SampleResult, before.tenant).filter(run=before).values_list("sample_id", "action")
    )
    moved = (
        scoped(SampleResult, after.tenant)
        .filter(run=after)
        .select_related("sample")
        .order_by("sample_id")
    )
    for result in moved.iterator(chunk_size=500):
        old = was.get(result.sample_id)
        if old is None or old == result.action:
            continue
        result.condition_changes = condition_changes(result.decision)
        group = comparison.stricter if Action(result.action) > Action(old) else comparison.looser
        group.setdefault(f"{old} → {result.action}", []).append(result)
    return comparison


def condition_changes(decision: dict) -> list[str]:
    """What conditional rules changed in one decision: a sentence per conditioned threshold."""
    out = []
    for rule in decision.get("results", []):
        change = rule.get("explanation", {}).get("condition")
        if rule.get("kind") != "category" or not change:
            continue
        names = ", ".join(f"“{c['name']}”" for c in change["conditions"])
        levels = "; ".join(
            f"{level.removesuffix('_at')} {_value(change[level]['from'])} → {change[level]['to']:g}"
            for level in ("review_at", "block_at")
        )
        fired = f", it {rule['action']}s" if rule.get("fired") else ""
        out.append(f"{names} set image {rule['explanation']['category']}: {levels}{fired}")
    return out


def _value(value) -> str:
    return "none" if value is None else f"{value:g}"


def _deltas(before: TestRun, after: TestRun) -> list[dict]:
    old = before.result.get("metrics", {})
    new = after.result.get("metrics", {})
    rows = []
    for section in ("action", "categories"):
        for name, metric in new.get(section, {}).items():
            prior = old.get(section, {}).get(name)
            if prior is None:
                continue
            rows.append(
                {
                    "name": f"{section}: {name}",
                    **{
                        k: {
                            "before": prior[k],
                            "after": metric[k],
                            "delta": round(metric[k] - prior[k], 4),
                        }
                        for k in RATIOS
                    },
                }
            )
    return rows
