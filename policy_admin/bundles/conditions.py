"""The draft's conditional rules as bundle rules, with the platform floor applied.

A condition reads a keyword or embedding set of the bundle, or a prompt
category score; its image thresholds replace the policy's for the request
(moderation/engine/conditions.py). A threshold looser than the floor is refused
when publishing (`strict`) and tightened to the floor, with a warning, in a draft
test; a signal or category no loaded model can score is left out the same way.
"""

from kernel.errors import ApplicationError
from moderation.engine.bundle.types import Condition, ConditionalRule, ConditionThreshold
from policy_admin.models import ConditionalRule as ConditionRow
from policy_admin.services.floors import Threshold, floor_violations
from tenants.scoping import scoped


def condition_rows(policy) -> list[ConditionRow]:
    """The draft's enabled conditional rules, with the sets they read."""
    rows = scoped(ConditionRow, policy.tenant).filter(policy=policy, enabled=True)
    return list(rows.select_related("keyword_set", "embedding_set").order_by("name"))


def condition_categories(rows: list[ConditionRow]) -> set[str]:
    """Every category the conditions score: their prompt signal's and their image thresholds'."""
    found = {r.category for r in rows if r.when == ConditionRow.When.CATEGORY}
    return found | {t["category"] for r in rows for t in r.image_thresholds}


def condition_rules(rows, *, rule_ids, outputs, floors, strict, warnings) -> list[ConditionalRule]:
    """The engine rules of `rows`; `rule_ids` maps each bundled set's id to what it reads."""
    rules = []
    for row in rows:
        when = _when(row, rule_ids, outputs, strict, warnings)
        thresholds = _thresholds(row, outputs, floors, strict, warnings)
        if when is None or not thresholds:
            continue
        rules.append(ConditionalRule(f"condition:{row.pk}", row.name, when, tuple(thresholds)))
    return rules


def _left_out(problem: str, strict: bool, warnings: list) -> None:
    if strict:
        raise ApplicationError(problem)
    warnings.append(problem + " It was left out of this test.")


def _when(row, rule_ids, outputs, strict, warnings) -> Condition | None:
    if row.when == ConditionRow.When.CATEGORY:
        if not outputs[row.category].prompt:
            _left_out(
                f"Conditional rule “{row.name}” reads the prompt {row.category} score, which no "
                "model loaded in this deployment produces.",
                strict,
                warnings,
            )
            return None
        return Condition("category", category=row.category, at_least=row.at_least)
    keyword = row.when == ConditionRow.When.KEYWORD_SET
    rule_id = f"keywords:{row.keyword_set_id}" if keyword else f"embedding:{row.embedding_set_id}"
    what = f"keyword set “{row.keyword_set}”" if keyword else f"set “{row.embedding_set}”"
    if rule_id not in rule_ids:
        _left_out(
            f"Conditional rule “{row.name}” reads the {what}, which has no terms yet.",
            strict,
            warnings,
        )
        return None
    if rule_ids[rule_id] == "image_text":
        _left_out(
            f"Conditional rule “{row.name}” reads the {what}, which judges only text in "
            "images; a condition reads the prompt, so set it to judge prompts (or both).",
            strict,
            warnings,
        )
        return None
    return Condition("keyword_set" if keyword else "embedding_set", rule=rule_id)


def _thresholds(row, outputs, floors, strict, warnings) -> list[ConditionThreshold]:
    kept = []
    for t in row.image_thresholds:
        category, review, block = t["category"], t["review_at"], t["block_at"]
        if not outputs[category].image:
            warnings.append(
                f"Conditional rule “{row.name}”: {category} is not scored on images (no model "
                "loaded in this deployment feeds it); that threshold was left out."
            )
            continue
        problems = floor_violations(Threshold(category, "image", review, block), floors)
        if problems:
            message = f"Conditional rule “{row.name}”: image " + " ".join(problems)
            if strict:
                raise ApplicationError(message, extra={"floor_violations": problems})
            review, block = _tightened(category, review, block, floors)
            warnings.append(message + " This test used the floor's value.")
        kept.append(ConditionThreshold(category, review, block))
    return kept


def _tightened(category: str, review: float, block: float, floors) -> tuple[float, float]:
    for floor in floors:
        if floor.category == category and floor.applies_to in ("image", "both"):
            review, block = min(review, floor.review_at), min(block, floor.block_at)
    return review, block
