"""Robustness reports of keyword sets: their rows' life (queued, running, finished, failed),
and the publish floor that a policy can turn on.

The report itself is computed by moderation.analysis.robustness, run by a task
of the moderation app (moderation.services.robustness) that writes through here.
"""

from django.db import transaction
from django.utils import timezone

from kernel.errors import ApplicationError, ConflictError
from policy_admin.models import KeywordRobustnessReport, KeywordRuleSet, Policy
from policy_admin.selectors.robustness import (
    keyword_set_fingerprint,
    robustness_is_current,
    robustness_latest_finished,
)

Status = KeywordRobustnessReport.Status
# With the floor on, every operator a set's options cover must catch this share of variants.
ROBUSTNESS_FLOOR = 0.99
EXAMPLES_NAMED = 3


def robustness_report_create(
    *, keyword_set: KeywordRuleSet, actor, seed: int = 0
) -> KeywordRobustnessReport:
    """Store a queued report of the set as it is now (its terms' fingerprint with it)."""
    if not keyword_set.term_count:
        raise ApplicationError(
            f"The keyword set \u201c{keyword_set.name}\u201d has no terms; import terms first."
        )
    active = keyword_set.robustness_reports.filter(status__in=[Status.PENDING, Status.RUNNING])
    if active.exists():
        raise ConflictError(
            f"A robustness report of \u201c{keyword_set.name}\u201d is already running; "
            "wait for it to finish."
        )
    report = KeywordRobustnessReport(
        tenant_id=keyword_set.tenant_id,
        keyword_set=keyword_set,
        seed=seed,
        fingerprint=keyword_set_fingerprint(keyword_set),
        policy_revision=keyword_set.policy.revision,
        created_by=actor,
    )
    report.full_clean()
    report.save()
    return report


@transaction.atomic
def robustness_report_claim(*, report_id: int) -> KeywordRobustnessReport | None:
    """Mark a queued report running; None when it is not queued (finished, or taken)."""
    report = (
        KeywordRobustnessReport.objects.select_for_update()
        .filter(pk=report_id, status=Status.PENDING)
        .first()
    )
    if report is None:
        return None
    report.status, report.started_at = Status.RUNNING, timezone.now()
    report.save(update_fields=["status", "started_at"])
    return report


def robustness_report_finish(
    *, report: KeywordRobustnessReport, result: dict
) -> KeywordRobustnessReport:
    """Store a running report's result."""
    return _end(report, Status.SUCCEEDED, result=result)


def robustness_report_fail(
    *, report: KeywordRobustnessReport, reason: str
) -> KeywordRobustnessReport:
    """Store why a report could not be made."""
    return _end(report, Status.FAILED, error=reason)


@transaction.atomic
def _end(report: KeywordRobustnessReport, status: str, **fields) -> KeywordRobustnessReport:
    locked = KeywordRobustnessReport.objects.select_for_update().get(pk=report.pk)
    if locked.status != Status.RUNNING:
        raise ConflictError(f"This report is {locked.get_status_display().lower()}, not running.")
    locked.status, locked.finished_at = status, timezone.now()
    for key, value in fields.items():
        setattr(locked, key, value)
    locked.save(update_fields=["status", "finished_at", *fields])
    return locked


def recall_below(result: dict, floor: float) -> list[dict]:
    """The operators (and pairs) a report expected to be caught whose recall is below `floor`."""
    rows = [
        row
        for row in result["operators"] + result["pairs"]
        if row["expected"] and row["recall"] is not None and row["recall"] < floor
    ]
    return sorted(rows, key=lambda row: (row["recall"], row["name"]))


def robustness_floor_problems(*, policy: Policy) -> list[str]:
    """What keeps `policy`'s draft below its robustness floor (nothing when the floor is off)."""
    if not policy.robustness_floor:
        return []
    problems = []
    for keyword_set in KeywordRuleSet.objects.filter(policy=policy, term_count__gt=0):
        problems += _set_problems(keyword_set)
    return problems


def _set_problems(keyword_set: KeywordRuleSet) -> list[str]:
    name = f"\u201c{keyword_set.name}\u201d"
    report = robustness_latest_finished(keyword_set=keyword_set)
    if report is None:
        return [f"{name} has no robustness report: run one from its page."]
    if not robustness_is_current(report, keyword_set):
        return [f"{name} changed since its robustness report (terms or options): run it again."]
    return [
        f"{name}: {row['label']} catches {row['recall']:.0%} of its variants "
        f"({row['caught']} of {row['variants']}), under the floor of {ROBUSTNESS_FLOOR:.0%}; "
        f"escaped: {', '.join(repr(e['variant']) for e in row['escaped'][:EXAMPLES_NAMED])}."
        for row in recall_below(report.result, ROBUSTNESS_FLOOR)
    ]


def robustness_floor_check(*, policy: Policy) -> None:
    """Refuse to publish a draft below its robustness floor, naming each operator and examples."""
    problems = robustness_floor_problems(policy=policy)
    if problems:
        raise ApplicationError(
            f"The robustness floor is on and {len(problems)} check"
            f"{'s' if len(problems) != 1 else ''} failed: {' '.join(problems)} Add terms or "
            "turn on the folding that catches these variants, run the report again, or turn "
            "the floor off in the policy's details.",
            extra={"problems": problems},
        )
