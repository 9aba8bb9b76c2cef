"""What shadow evaluation works on and compares: jobs of served requests, differing rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moderation.engine.decision import Action, Decision
from moderation.engine.delta import DeltaPlan
from moderation.fleet.decision_records import rule_rows
from moderation.fleet.served import ServedBatch, Shadow

# (minute, version, shadow version, enforced action, shadow action, rule id)
CountKey = tuple[int, int, int, str, str, str]


@dataclass(slots=True)
class ShadowJob:
    """Requests of one shadow served in one minute, judged together: (batch, row, served at)."""

    shadow: Shadow
    minute: int
    rows: list[tuple[ServedBatch, int, float]]


# What judging gives per request: the candidate's action, the rules that differ, and the
# candidate's decision (None where the plan gave the outcome without one) and its plan.
Judged = tuple[Action, list[str], Decision | None, DeltaPlan]


def _fired(results, skip: set[int]) -> dict[str, Action]:
    # A threshold on both modalities gives two results under one id: the rule's action is
    # the higher of the two (the image's must not hide the prompt's).
    fired: dict[str, Action] = {}
    for r in results:
        if r.fired and id(r) not in skip:
            held = fired.get(r.rule_id)
            fired[r.rule_id] = r.action if held is None or held < r.action else held
    return fired


def differing_rules(enforced: Decision, shadow: Decision) -> list[str]:
    """The rule ids that fired in one decision only, or in both with another action."""
    # A result the shadow reused from the enforced run (moderation/engine/delta.py) is the
    # same object in both: its rule cannot differ, so it is not looked at.
    fired_e = [r for r in enforced.results if r.fired]
    fired_s = [r for r in shadow.results if r.fired]
    if not fired_e and not fired_s:
        return []  # the common case: nothing fired in either
    shared = {id(r) for r in fired_s}.intersection(map(id, fired_e))
    fired_e, fired_s = _fired(fired_e, shared), _fired(fired_s, shared)
    return sorted(
        rule_id
        for rule_id in fired_e.keys() | fired_s.keys()
        if fired_e.get(rule_id) != fired_s.get(rule_id)
    )


def shadow_of(shadow: Shadow, decision: Decision) -> dict[str, Any]:
    """The record's `shadow` object: what the candidate decided."""
    return {
        "version": shadow.version,
        "bundle_sha256": shadow.sha256,
        "action": decision.action.value,
        "rules": rule_rows(decision),
    }
