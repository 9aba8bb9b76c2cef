"""The platform floor: staff keep it, every tenant inherits it, no tenant loosens it."""

from dataclasses import dataclass

from django.db import transaction

from policy_admin.errors import ApplicationError
from policy_admin.models import CategoryThreshold, FloorCategory, FloorKeywordSet
from policy_admin.models.rules import AppliesTo
from policy_admin.services.audit import audit_record, changes, describe_changes


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
    floors = FloorCategory.objects.all() if floors is None else floors
    problems = []
    for floor in floors:
        if floor.category != threshold.category or not _overlaps(
            floor.applies_to, threshold.applies_to
        ):
            continue
        where = f"{floor.category} ({floor.get_applies_to_display().lower()})"
        if not threshold.enabled:
            problems.append(f"{where} cannot be disabled: the platform floor requires it.")
            continue
        for level in ("review_at", "block_at"):
            mine, theirs = getattr(threshold, level), getattr(floor, level)
            if mine > theirs:
                problems.append(
                    f"{where}: {level.replace('_at', '')} at {mine:g} is looser than the "
                    f"platform floor's {theirs:g}. A policy may tighten the floor, never loosen it."
                )
    return problems


def floor_check(thresholds: list[Threshold]) -> None:
    """Raise an ApplicationError listing every floor a set of thresholds would loosen."""
    floors = list(FloorCategory.objects.all())
    problems = [p for t in thresholds for p in floor_violations(t, floors)]
    if problems:
        raise ApplicationError(" ".join(problems), extra={"floor_violations": problems})


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


def floor_keyword_sets() -> list[FloorKeywordSet]:
    """The locked keyword sets every bundle includes."""
    return list(FloorKeywordSet.objects.all())


def _floor_fields(floor: FloorCategory) -> dict:
    return {"review_at": floor.review_at, "block_at": floor.block_at}
