"""Conditional (cross-modal) rules: a prompt signal changes the image thresholds of a request.

The prompt stage judges every condition and records it as a result of kind
"condition" (action allow: a condition never acts by itself). The image stage
reads the fired conditions among the request's results, so a staged evaluation
(prompt and image stages on different batches) conditions exactly as
evaluate_batch does.

The rule: for each category a fired condition names, its review and block
thresholds replace the bundle's image threshold of that category for this
request (added when the bundle has none); when several fired conditions name one
category, the lowest (strictest) value of each level wins. The bundle builder
refuses, or tightens in draft tests, any condition threshold looser than the
platform floor, so a condition never loosens below a floor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from moderation.engine.bundle.types import Bundle, CategoryThreshold, ConditionalRule
from moderation.engine.decision import Action, RuleResult
from moderation.engine.inputs import has_content

_LEVELS = ("review_at", "block_at")


@dataclasses.dataclass(frozen=True)
class ConditionedThreshold(CategoryThreshold):
    """An image threshold as a fired condition set it; `changes` says from what to what."""

    changes: dict | None = None


def prompt_categories(bundle: Bundle) -> set[str]:
    """The categories whose prompt scores some condition reads."""
    return {c.when.category for c in bundle.conditions if c.when.kind == "category"}


def image_categories(bundle: Bundle) -> set[str]:
    """The categories whose image thresholds some condition sets."""
    return {t.category for c in bundle.conditions for t in c.thresholds}


def judge_conditions(run) -> None:
    """The prompt stage's last step: judge every condition on each prompt's results so far.

    `run` is evaluate's per-batch state (its items, results, calibration and the prompt
    scores it computed once, which a category condition reuses).
    """
    bundle = run.compiled.bundle
    rows = [i for i, it in enumerate(run.items) if it.prompt is not None]
    if not bundle.conditions or not rows:
        return
    active = [i for i in rows if has_content(run.items[i].prompt)]
    scored = any(c.when.kind == "category" for c in bundle.conditions)
    outputs, calibrated = run._score("prompt", active) if scored else ({}, True)
    for i in rows:
        scores = outputs.get(i)
        run.results[i].extend(
            condition_result(bundle, c, run.results[i], scores) for c in bundle.conditions
        )
        if scores is not None and not calibrated:
            run.calibrated[i] = False


def condition_result(
    bundle: Bundle, rule: ConditionalRule, results: Sequence[RuleResult], scores: dict | None
) -> RuleResult:
    """Judge one condition on a request's prompt results (and prompt scores, for categories)."""
    when = rule.when
    described, planned = _plans(bundle)[rule.id]
    explanation = {"when": described, "thresholds": planned}
    if when.kind == "category":
        names = bundle.category_outputs[when.category].prompt
        if scores is None:
            score, explanation["skipped"] = 0.0, "empty prompt: no model judges it"
        else:
            score = max(float(scores.get(n, 0.0)) for n in names)
            explanation["category_score"] = score
        fired, threshold = scores is not None and score >= when.at_least, when.at_least
    else:
        # The set as it judged the prompt (a set may judge other modalities too).
        source = next(
            (r for r in results if r.rule_id == when.rule and r.modality == "prompt"), None
        )
        fired = source is not None and source.fired
        score = source.score if source is not None else 0.0
        threshold = source.threshold if source is not None else None
        explanation["rule_name"] = source.rule_name if source is not None else when.rule
    return RuleResult(
        "condition", rule.id, rule.name, "prompt", Action.ALLOW, fired, score, threshold,
        explanation,
    )  # fmt: skip


def image_thresholds(
    bundle: Bundle, thresholds: Sequence[CategoryThreshold], results: Sequence[RuleResult]
) -> Sequence[CategoryThreshold]:
    """The image thresholds of one request: the bundle's, with fired conditions applied."""
    fired = {r.rule_id for r in results if r.fired and r.kind == "condition"}
    if not fired:
        return thresholds
    rules = [c for c in bundle.conditions if c.id in fired]
    wanted = _strictest(rules)
    out = [
        _replaced(t, t.id, wanted[t.category]) if t.category in wanted else t for t in thresholds
    ]
    judged = {t.category for t in thresholds}
    for category, chosen in wanted.items():
        if category not in judged:  # the bundle has no image threshold here: the condition adds one
            out.append(_replaced(None, f"{chosen['by'][0]['id']}:{category}", chosen, category))
    return out


def _strictest(rules: list[ConditionalRule]) -> dict[str, dict]:
    wanted: dict[str, dict] = {}
    for rule in rules:
        for t in rule.thresholds:
            chosen = wanted.setdefault(t.category, {"by": []})
            for level in _LEVELS:
                value = getattr(t, level)
                if level not in chosen or value < chosen[level]:
                    chosen[level] = value
            chosen["by"].append({"id": rule.id, "name": rule.name})
    return wanted


def _replaced(base, rule_id: str, chosen: dict, category: str | None = None):
    changes = {
        "conditions": chosen["by"],
        **{
            level: {"from": getattr(base, level) if base else None, "to": chosen[level]}
            for level in _LEVELS
        },
    }
    return ConditionedThreshold(
        id=rule_id,
        category=base.category if base else category,
        applies_to="image",
        review_at=chosen["review_at"],
        block_at=chosen["block_at"],
        source=base.source if base else "policy",
        changes=changes,
    )


def _plans(bundle: Bundle) -> dict[str, tuple[dict, list[dict]]]:
    """Each condition's signal and planned changes, worked out once per bundle (read-only)."""
    plans = bundle.__dict__.get("_condition_plans")
    if plans is None:
        plans = {c.id: (_describe(c.when), _planned(bundle, c)) for c in bundle.conditions}
        object.__setattr__(bundle, "_condition_plans", plans)
    return plans


def _describe(when) -> dict:
    if when.kind == "category":
        return {"kind": when.kind, "category": when.category, "at_least": when.at_least}
    return {"kind": when.kind, "rule": when.rule}


def _planned(bundle: Bundle, rule: ConditionalRule) -> list[dict]:
    """What the condition changes: each category's image thresholds, from and to."""
    base = {t.category: t for t in bundle.thresholds if "image" in t.modalities()}
    out = []
    for t in rule.thresholds:
        before = base.get(t.category)
        out.append({
            "category": t.category,
            **{
                level: {"from": getattr(before, level) if before else None,
                        "to": getattr(t, level)}
                for level in _LEVELS
            },
        })  # fmt: skip
    return out
