"""Saving and deleting conditional rules: the prompt signal and the image thresholds it sets.

The floor rule: a condition's image threshold replaces the policy's for that request,
so each of its levels must be at or below (as strict as) the platform floor's for
that category on images. A looser value is refused here and by the bundle builder.
"""

from django.db import transaction

from kernel.errors import ApplicationError
from policy_admin.models import ConditionalRule, EmbeddingRuleSet, KeywordRuleSet, Policy
from policy_admin.selectors import catalogue
from policy_admin.services.floors import Threshold, floor_violations
from policy_admin.services.policies import rule_delete, rule_save
from tenants.scoping import scoped

CONDITION_FIELDS = (
    "name", "when", "keyword_set", "embedding_set", "category", "at_least", "image_thresholds",
    "enabled",
)  # fmt: skip
MAX_IMAGE_THRESHOLDS = 50
_SIGNAL_FIELDS = {
    ConditionalRule.When.KEYWORD_SET: ("keyword_set",),
    ConditionalRule.When.EMBEDDING_SET: ("embedding_set",),
    ConditionalRule.When.CATEGORY: ("category", "at_least"),
}
_CLEARED = {"keyword_set": None, "embedding_set": None, "category": "", "at_least": None}


@transaction.atomic
def condition_save(
    *,
    policy: Policy,
    actor,
    revision: int | None,
    condition: ConditionalRule | None = None,
    **fields,
) -> ConditionalRule:
    """Create or change a conditional rule; refused when a threshold would loosen the floor."""
    condition = condition or ConditionalRule(tenant=policy.tenant, policy=policy)
    when = fields.get("when", condition.when)
    if when not in _SIGNAL_FIELDS:
        known = ", ".join(ConditionalRule.When.values)
        raise ApplicationError(f"Unknown condition “{when}”; use one of: {known}.")
    # Only the named signal's fields stay set: switching kinds clears the others.
    for name, empty in _CLEARED.items():
        if name not in _SIGNAL_FIELDS[when]:
            fields[name] = empty
    _check_signal(policy, when, fields, condition)
    if "image_thresholds" in fields or condition.pk is None:
        fields["image_thresholds"] = image_thresholds_clean(
            fields.get("image_thresholds", condition.image_thresholds)
        )
    return rule_save(
        policy=policy,
        rule=condition,
        actor=actor,
        revision=revision,
        fields=fields,
        audit_fields=CONDITION_FIELDS,
    )


def _check_signal(policy: Policy, when: str, fields: dict, condition: ConditionalRule) -> None:
    for name, model in (("keyword_set", KeywordRuleSet), ("embedding_set", EmbeddingRuleSet)):
        rule = fields.get(name, getattr(condition, name))
        if name in _SIGNAL_FIELDS[when]:
            if rule is None:
                raise ApplicationError(f"Choose the {name.replace('_', ' ')} the condition reads.")
            # Ids from a form or the API: the set must be this tenant's and this policy's.
            if not scoped(model, policy.tenant).filter(pk=rule.pk, policy=policy).exists():
                what = name.replace("_", " ")
                raise ApplicationError(f"That {what} is not one of this policy's; choose its own.")
    if when == ConditionalRule.When.CATEGORY:
        category = fields.get("category", condition.category)
        entry = catalogue.category(category)
        if entry is None or entry.applies_to not in ("prompt", "both"):
            raise ApplicationError(
                f"“{category}” is not a category scored on prompts; choose one of: "
                + ", ".join(c.id for c in catalogue.categories() if c.applies_to != "image")
                + "."
            )
        if fields.get("at_least", condition.at_least) is None:
            raise ApplicationError("Say which prompt score the category must reach (0 to 1).")


def image_thresholds_clean(rows, floors=None) -> list[dict]:
    """The image thresholds as stored: checked against the catalogue, their order and the floor.

    Raises an ApplicationError naming every problem (category, level and floor value).
    """
    if not isinstance(rows, list | tuple) or not rows:
        raise ApplicationError("Give at least one image threshold (category, review, block).")
    if len(rows) > MAX_IMAGE_THRESHOLDS:
        raise ApplicationError(f"At most {MAX_IMAGE_THRESHOLDS} image thresholds per condition.")
    cleaned, problems, seen = [], [], set()
    for row in rows:
        row = _row(row)
        problem = _row_problem(row, seen)
        if problem:
            problems.append(problem)
            continue
        seen.add(row["category"])
        problems.extend(
            f"Image {p}"
            for p in floor_violations(
                Threshold(row["category"], "image", row["review_at"], row["block_at"]), floors
            )
        )
        cleaned.append(row)
    if problems:
        raise ApplicationError(" ".join(problems), extra={"problems": problems})
    return cleaned


def _row(row) -> dict:
    if not isinstance(row, dict) or set(row) != {"category", "review_at", "block_at"}:
        raise ApplicationError(
            "Each image threshold is a category with a review and a block score "
            "({category, review_at, block_at})."
        )
    out = dict(row)
    for level in ("review_at", "block_at"):
        value = out[level]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ApplicationError(
                f"{out['category']}: {level.replace('_at', '')} must be a score from 0 to 1."
            )
        out[level] = float(value)
    return out


def _row_problem(row: dict, seen: set) -> str:
    entry = catalogue.category(row["category"])
    if entry is None:
        return f"Unknown category “{row['category']}”."
    if entry.applies_to not in ("image", "both"):
        return f"{entry.name} is scored on prompts only; a condition sets image thresholds."
    if row["category"] in seen:
        return f"{row['category']} is listed twice; keep one line per category."
    if row["review_at"] > row["block_at"]:
        return (
            f"{row['category']}: review at {row['review_at']:g} is above block at "
            f"{row['block_at']:g}; review must not be above block."
        )
    return ""


@transaction.atomic
def condition_delete(*, condition: ConditionalRule, actor, revision: int | None) -> None:
    """Delete a conditional rule (the sets it read stay)."""
    rule_delete(
        policy=condition.policy,
        rule=condition,
        actor=actor,
        revision=revision,
        fields=CONDITION_FIELDS,
    )
