"""The platform floor: staff keep it, every tenant inherits it, no tenant loosens it."""

import dataclasses
from dataclasses import dataclass

from django.db import transaction

from kernel.errors import ApplicationError
from moderation.engine.match_options import OPTION_NAMES
from policy_admin.models import CategoryThreshold, FloorCategory, FloorKeywordSet
from policy_admin.models.rules import AppliesTo
from policy_admin.services.audit import audit_record, changes, describe_changes
from policy_admin.services.policies import snapshot
from policy_admin.services.terms import TermsReport, terms_clean


@dataclass(frozen=True)
class Threshold:
    """A category threshold as the floor judges it, whether saved or about to be."""

    category: str
    applies_to: str
    review_at: float
    block_at: float
    enabled: bool = True


def _overlaps(a: str, b: str) -> bool:
    return a == b or AppliesTo.BOTH in (a, b)


def floor_violations(threshold: Threshold, floors=None) -> list[str]:
    """Sentences naming each way `threshold` is looser than the floor; empty when it is not."""
    by_field = floor_violations_by_field(threshold, floors)
    return [problem for problems in by_field.values() for problem in problems]


def floor_violations_by_field(threshold: Threshold, floors=None) -> dict[str, list[str]]:
    """The same sentences keyed by the field that breaks it: enabled, review_at, block_at."""
    floors = FloorCategory.objects.all() if floors is None else floors
    problems: dict[str, list[str]] = {}
    for floor in floors:
        if floor.category != threshold.category or not _overlaps(
            floor.applies_to, threshold.applies_to
        ):
            continue
        where = f"{floor.category} ({floor.get_applies_to_display().lower()})"
        if not threshold.enabled:
            problems.setdefault("enabled", []).append(
                f"{where} cannot be disabled: the platform floor requires it."
            )
            continue
        for level in ("review_at", "block_at"):
            mine, theirs = getattr(threshold, level), getattr(floor, level)
            if mine > theirs:
                problems.setdefault(level, []).append(
                    f"{where}: {level.replace('_at', '')} at {mine:g} is looser than the "
                    f"platform floor's {theirs:g}. A policy may tighten the floor, never loosen it."
                )
    return problems


def floor_check(thresholds: list[Threshold]) -> None:
    """Raise an ApplicationError listing every floor a set of thresholds would loosen."""
    floors = list(FloorCategory.objects.all())
    by_field: dict[str, list[str]] = {}
    for threshold in thresholds:
        for level, found in floor_violations_by_field(threshold, floors).items():
            by_field.setdefault(level, []).extend(found)
    problems = [p for found in by_field.values() for p in found]
    if problems:
        raise ApplicationError(
            " ".join(problems), extra={"floor_violations": problems, "fields": by_field}
        )


@transaction.atomic
def floor_category_set(
    *, actor, category: str, applies_to: str, review_at: float, block_at: float
) -> tuple[FloorCategory, list[str]]:
    """Create or change a floor entry; returns it and the tenants whose drafts it tightens."""
    floor = FloorCategory.objects.filter(category=category, applies_to=applies_to).first()
    before = _floor_fields(floor) if floor else {}
    floor = floor or FloorCategory(category=category, applies_to=applies_to)
    floor.review_at, floor.block_at = review_at, block_at
    floor.full_clean()
    floor.save()
    tightened = floor_tightened_tenants(floor)
    old, new = changes(before, _floor_fields(floor))
    audit_record(
        tenant=None,
        actor=actor,
        verb="update" if before else "create",
        target=floor,
        summary=f"{describe_changes(old, new)}; tightens {len(tightened)} tenant(s)"
        + (f": {', '.join(tightened)}" if tightened else ""),
        before=old or None,
        after=new,
    )
    return floor, tightened


def floor_tightened_tenants(floor: FloorCategory) -> list[str]:
    """Names of tenants with a draft threshold looser than this floor entry."""
    thresholds = CategoryThreshold.objects.filter(category=floor.category).select_related("tenant")
    names = {
        t.tenant.name
        for t in thresholds
        if floor_violations(
            Threshold(t.category, t.applies_to, t.review_at, t.block_at, t.enabled), [floor]
        )
    }
    return sorted(names)


@transaction.atomic
def floor_keyword_set_save(
    *,
    actor,
    keyword_set: FloorKeywordSet | None = None,
    terms: list[tuple[int, str]] | None = None,
    allow_list: list[str] | None = None,
    **fields,
) -> tuple[FloorKeywordSet, TermsReport | None]:
    """Create or change a locked keyword set of the floor (terms, when given, replace its terms).

    Audited as a platform event (no tenant). Returns the set and the report of its terms.
    """
    # Imported here: policy_admin.services.rules imports this module for floor_check.
    from policy_admin.services.rules import KEYWORD_FIELDS, _clean_phrases

    creating = keyword_set is None
    keyword_set = keyword_set or FloorKeywordSet()
    before = {} if creating else snapshot(keyword_set, KEYWORD_FIELDS)
    report = None
    if terms is not None:
        options = dataclasses.replace(
            keyword_set.match_options(), **{k: v for k, v in fields.items() if k in OPTION_NAMES}
        )
        report = terms_clean(terms, casefold=options.casefold, options=options)
        fields.update(terms="\n".join(report.terms), term_count=len(report.terms))
    if allow_list is not None:
        fields["allow_list"] = "\n".join(_clean_phrases(allow_list, "allow-list entry"))
    for key, value in fields.items():
        setattr(keyword_set, key, value)
    keyword_set.full_clean()
    keyword_set.save()
    old, new = changes(before, snapshot(keyword_set, KEYWORD_FIELDS))
    audit_record(
        tenant=None,
        actor=actor,
        verb="create" if creating else "update",
        target=keyword_set,
        target_type="floor keyword set",
        summary=f"locked keyword set {keyword_set.name}: "
        + ("created" if creating else describe_changes(old, new))
        + (f" ({report.summary()})" if report else ""),
        before=old or None,
        after=new,
    )
    return keyword_set, report


def floor_keyword_sets() -> list[FloorKeywordSet]:
    """The locked keyword sets every bundle includes."""
    return list(FloorKeywordSet.objects.all())


def _floor_fields(floor: FloorCategory) -> dict:
    return {"review_at": floor.review_at, "block_at": floor.block_at}
