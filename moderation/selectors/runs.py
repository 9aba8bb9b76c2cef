"""Reads of the scoring side; tenant-owned queries go through tenants.scoping."""

import csv
import io

from django.db.models import Count, F, QuerySet

from moderation.engine.decision import ACTIONS, Action
from moderation.models import Sample, SampleImport, SampleResult, SampleSet, TestRun
from policy_admin.models import Channel, PolicyVersion
from policy_admin.selectors.publishing import latest_version_number
from tenants.scoping import scoped

# A sample is labelled with an action of the ladder (or a catalogue category).
ACTION_LABELS = ACTIONS


def run_list(*, tenant, policy=None, kind: str = "") -> QuerySet[TestRun]:
    """The tenant's runs, newest first, optionally of one policy and kind."""
    runs = scoped(TestRun, tenant).select_related("policy", "created_by").prefetch_related("images")
    if policy is not None:
        runs = runs.filter(policy=policy)
    if kind:
        runs = runs.filter(kind=kind)
    return runs.order_by("-created_at", "-id")


def run_get(*, tenant, pk: int, kind: str = "") -> TestRun:
    """One of the tenant's runs (of `kind`), as stored; TestRun.DoesNotExist for any other id.

    A read never recovers a run whose worker went silent: callers that show a run's
    state pass it through moderation.services.lifecycle.run_reap.
    """
    return run_list(tenant=tenant, kind=kind).get(pk=pk)


def run_versions(*, tenant, policy=None) -> QuerySet[PolicyVersion]:
    """The tenant's published versions a run can judge with, by policy then newest first."""
    versions = scoped(PolicyVersion, tenant).defer("bundle").select_related("policy")
    if policy is not None:
        versions = versions.filter(policy=policy)
    return versions.order_by("policy__name", "policy_id", "-number")


def run_version_get(*, tenant, pk: int | None) -> PolicyVersion | None:
    """The tenant's published version `pk` for a run to judge with; None (the draft) without pk.

    An id the tenant has no version of raises PolicyVersion.DoesNotExist (a 404).
    """
    if pk is None:
        return None
    return run_versions(tenant=tenant).get(pk=pk)


def run_version_choices(*, tenant, policy=None) -> list[PolicyVersion]:
    """`run_versions`, each with `channels`: the names of the channels that point at it."""
    channels: dict[int, list[str]] = {}
    pointers = scoped(Channel, tenant).filter(version__isnull=False).order_by("name")
    for version_id, name in pointers.values_list("version_id", "name"):
        channels.setdefault(version_id, []).append(name)
    versions = list(run_versions(tenant=tenant, policy=policy))
    for version in versions:
        version.channels = channels.get(version.pk, [])
    return versions


def suite_impact_baseline(*, run: TestRun) -> TestRun | None:
    """For a draft suite, the newest finished suite of the latest published version on its set.

    The pair is the impact preview: what publishing this draft would change.
    """
    if run.kind != TestRun.Kind.SUITE or run.version_number is not None:
        return None
    latest = latest_version_number(policy=run.policy)
    if latest is None:
        return None
    return (
        run_list(tenant=run.tenant, policy=run.policy, kind=TestRun.Kind.SUITE)
        .filter(
            sample_set=run.sample_set_id, version_number=latest, status=TestRun.Status.SUCCEEDED
        )
        .first()
    )


def sample_set_list(*, tenant) -> QuerySet[SampleSet]:
    """The tenant's sample sets by name, each with its sample count."""
    return scoped(SampleSet, tenant).annotate(sample_count=Count("samples")).order_by("name", "id")


def sample_list(
    *, sample_set: SampleSet, tag: str = "", label: str = "", sample: int | None = None
) -> QuerySet[Sample]:
    """A set's samples in id order, narrowed to a tag and/or a label (an action or category),
    or to one sample by id."""
    samples = scoped(Sample, sample_set.tenant).filter(sample_set=sample_set)
    if sample is not None:
        samples = samples.filter(pk=sample)
    if tag:
        samples = samples.filter(search_keys__contains=f" tag:{tag} ")
    if label:
        key = f"action:{label}" if label in ACTION_LABELS else f"cat:{label}"
        samples = samples.filter(search_keys__contains=f" {key} ")
    return samples.order_by("id")


def sample_import_error_csv(report: SampleImport) -> str:
    """The refused rows of an import as CSV text: row, id, error."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "id", "error"])
    for error in report.errors:
        writer.writerow([error["row"], error["id"], error["error"]])
    return buffer.getvalue()


OUTCOMES = {
    "fp": "False positives (flagged or stricter, expected allow)",
    "fn": "False negatives (allowed, expected flag or stricter)",
    "right": "Matching the expected action",
}
_CAUGHT = tuple(a.value for a in Action if a >= Action.FLAG)


def suite_results(*, run: TestRun, show: str = "") -> QuerySet[SampleResult]:
    """A suite's per-sample results in sample order, optionally only its fp, fn or exact hits."""
    results = scoped(SampleResult, run.tenant).filter(run=run).select_related("sample")
    if show == "fp":
        results = results.filter(action__in=_CAUGHT, sample__expected_action="allow")
    elif show == "fn":
        results = results.filter(action="allow", sample__expected_action__in=_CAUGHT)
    elif show == "right":
        results = results.filter(action=F("sample__expected_action"))
    return results.order_by("sample_id")


def suite_metrics(*, run: TestRun) -> dict:
    """The metrics stored when the suite finished (empty before)."""
    return (run.result or {}).get("metrics", {})
