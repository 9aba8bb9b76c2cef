"""The bundle's `conditions` list: cross-modal rules, encoded and validated strictly."""

from __future__ import annotations

from typing import Any

from moderation.engine.bundle import fields as f
from moderation.engine.bundle.types import (
    Bundle,
    Condition,
    ConditionalRule,
    ConditionThreshold,
)
from moderation.engine.errors import BundleError

MAX_CONDITIONS = 1_000
CONDITION_KINDS = ("keyword_set", "embedding_set", "category")
_WHEN_KEYS = {"keyword_set": ("kind", "rule"), "embedding_set": ("kind", "rule")}
_WHEN_KEYS["category"] = ("kind", "category", "at_least")


def condition_dict(rule: ConditionalRule) -> dict[str, Any]:
    """Return the canonical JSON form of one conditional rule."""
    when = rule.when
    if when.kind == "category":
        condition = {"kind": when.kind, "category": when.category, "at_least": when.at_least}
    else:
        condition = {"kind": when.kind, "rule": when.rule}
    return {
        "id": rule.id,
        "name": rule.name,
        "when": condition,
        "thresholds": [
            {"category": t.category, "review_at": t.review_at, "block_at": t.block_at}
            for t in rule.thresholds
        ],
    }


def conditions_from_list(raw: Any, bundle: Bundle) -> tuple[ConditionalRule, ...]:
    """Validate the `conditions` list against the rest of `bundle`; refusals name the path."""
    items = f.array(raw, "conditions", max_items=MAX_CONDITIONS)
    if not items:
        raise BundleError("conditions", "empty list; leave the field out when there are none")
    return tuple(_condition(item, f"conditions[{i}]", bundle) for i, item in enumerate(items))


def _condition(raw: Any, path: str, bundle: Bundle) -> ConditionalRule:
    d = f.obj(raw, path, ("id", "name", "when", "thresholds"))
    thresholds = f.array(d["thresholds"], f"{path}.thresholds", max_items=100)
    if not thresholds:
        raise BundleError(f"{path}.thresholds", "no thresholds; a condition changes at least one")
    parsed = [_threshold(t, f"{path}.thresholds[{i}]", bundle) for i, t in enumerate(thresholds)]
    seen: dict[str, int] = {}
    for i, t in enumerate(parsed):
        if t.category in seen:
            raise BundleError(
                f"{path}.thresholds[{i}].category",
                f"{t.category!r} is already set at thresholds[{seen[t.category]}]",
            )
        seen[t.category] = i
    return ConditionalRule(
        id=f.string(d["id"], f"{path}.id"),
        name=f.string(d["name"], f"{path}.name"),
        when=_when(d["when"], f"{path}.when", bundle),
        thresholds=tuple(parsed),
    )


def _when(raw: Any, path: str, bundle: Bundle) -> Condition:
    if not isinstance(raw, dict):
        f.obj(raw, path, ("kind",))  # raises: not an object
    kind = f.choice(raw.get("kind"), f"{path}.kind", CONDITION_KINDS)
    d = f.obj(raw, path, _WHEN_KEYS[kind])
    if kind == "category":
        category = f.string(d["category"], f"{path}.category")
        outputs = bundle.category_outputs.get(category)
        if outputs is None or not outputs.prompt:
            raise BundleError(
                f"{path}.category",
                f"{category!r} has no prompt outputs under 'categories', so no prompt score",
            )
        at_least = f.number(d["at_least"], f"{path}.at_least", 0.0, 1.0)
        return Condition(kind=kind, category=category, at_least=at_least)
    rule = f.string(d["rule"], f"{path}.rule")
    sets = bundle.keyword_sets if kind == "keyword_set" else bundle.embedding_sets
    if rule not in {s.id for s in sets}:
        group = f"{kind}s"
        raise BundleError(f"{path}.rule", f"{rule!r} is not the id of an entry of {group!r}")
    return Condition(kind=kind, rule=rule)


def _threshold(raw: Any, path: str, bundle: Bundle) -> ConditionThreshold:
    d = f.obj(raw, path, ("category", "review_at", "block_at"))
    category = f.string(d["category"], f"{path}.category")
    outputs = bundle.category_outputs.get(category)
    if outputs is None or not outputs.image:
        raise BundleError(
            f"{path}.category",
            f"{category!r} has no image outputs under 'categories', so no image score",
        )
    review = f.number(d["review_at"], f"{path}.review_at", 0.0, 1.0)
    block = f.number(d["block_at"], f"{path}.block_at", 0.0, 1.0)
    if review > block:
        raise BundleError(path, f"review_at {review} is above block_at {block}")
    return ConditionThreshold(category=category, review_at=review, block_at=block)
