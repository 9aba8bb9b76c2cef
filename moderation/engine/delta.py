"""Judge a candidate bundle on inputs another bundle judged, running only the rules that differ.

Every rule's result depends on the rule, the input and the model outputs it reads, never on
the other rules (evaluate.py judges each on its own). So where the candidate holds a rule
identical to the enforced bundle's (same kind, id and definition, and the same category
outputs, encoder pins and dimensions), the enforced decision's result for that rule is the
candidate's result too. `DeltaPlan` finds those rules once per pair of bundles and puts the
others in a small bundle (`delta`) that evaluate_batch's stages judge; the candidate's decision is
both sets of results, in the order a full evaluation of the candidate gives them.

A rule that differs only in its action or name (a stricter draft raising review to block)
scores and fires exactly as before: its result is the enforced one relabelled with the
candidate's action and name, and nothing runs for it. That holds for the kinds whose result
takes the rule's action and name as they are (keyword, embedding, classifier, concept); a
category threshold's action comes from its bands, which are its score's thresholds.

Conditional rules break that independence (a prompt signal changes image thresholds), so a
pair of bundles where either holds one is judged in full.

Shadow mode (moderation/fleet/shadow.py) uses it: a stricter draft differs from the enforced
version in a few rules, so judging it costs those rules, not the whole policy again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from moderation.engine.bundle.types import Bundle
from moderation.engine.compiled import CompiledBundle, compile_bundle
from moderation.engine.decision import Action, Decision, RuleResult
from moderation.engine.evaluate import PIPELINE, _Run
from moderation.engine.inputs import coerce_item
from moderation.engine.providers import ModelProvider

# What a rule's result copies from its definition without reading it (see the docstring).
LABELS = ("action", "name")
RELABELLED_PARTS = frozenset({"keyword_sets", "embedding_sets", "classifiers", "concepts"})

# Each action's place on the ladder, looked up without the property call.
_RANK = {action: action.rank for action in Action}
# What outcome() gives a decision in which no rule fired (shared: callers do not change it).
_NOTHING_FIRED: tuple[Action, list[str]] = (Action.ALLOW, [])
# A result of a rule the candidate does not carry over (removed, or judged afresh).
_DROPPED: Any = object()

# The bundle's rule collections and the kind their results carry.
PARTS = {
    "keyword_sets": "keyword",
    "embedding_sets": "embedding",
    "thresholds": "category",
    "classifiers": "classifier",
    "concepts": "concept",
}


def same_rule(a: Any, b: Any, *, ignore: tuple[str, ...] = ()) -> bool:
    """Whether two rule definitions are equal field by field (vectors compared exactly),
    leaving out the fields named in `ignore`."""
    if type(a) is not type(b):
        return False
    for f in dataclasses.fields(a):
        if f.name in ignore:
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (
                isinstance(x, np.ndarray)
                and isinstance(y, np.ndarray)
                and x.shape == y.shape
                and x.dtype == y.dtype
                and np.array_equal(x, y)
            ):
                return False
        elif x != y:
            return False
    return True


def _reads_same(part: str, rule: Any, enforced: Bundle, candidate: Bundle) -> bool:
    """Whether the rule reads the same model outputs in both bundles."""
    if part == "keyword_sets":
        return True
    if dict(enforced.pins) != dict(candidate.pins) or dict(enforced.dims) != dict(candidate.dims):
        return False
    if part == "thresholds":
        return enforced.category_outputs.get(rule.category) == candidate.category_outputs.get(
            rule.category
        )
    return True


def _unique_ids(rules: Sequence[Any]) -> bool:
    return len({r.id for r in rules}) == len(rules)


def result_order(compiled: CompiledBundle) -> dict[tuple[str, str, str], int]:
    """The position of each (kind, rule id, modality) in a full evaluation's results."""
    bundle = compiled.bundle
    keys: list[tuple[str, str, str]] = []
    keys += [("keyword", ks.id, "prompt") for ks in bundle.keyword_sets]
    for stacked in compiled.embedding.values():
        keys += [("embedding", es.id, "prompt") for es in stacked.sets]
    for modality in ("prompt", "image"):
        if modality == "image":  # after the prompt stage: conditions, then image text
            keys += [("condition", c.id, "prompt") for c in bundle.conditions]
            keys += [
                ("keyword", ks.keyword_set.id, "image") for ks in compiled.image_text_keyword_sets
            ]
            for stacked in compiled.image_text_embedding.values():
                keys += [("embedding", es.id, "image") for es in stacked.sets]
        keys += [("category", t.id, modality) for t in compiled.thresholds(modality)]
        for (target, _), stacked in compiled.classifiers.items():
            if target == modality:
                keys += [("classifier", c.id, target) for c in stacked.classifiers]
    for stacked in compiled.concepts.values():
        keys += [("concept", c.id, "image") for c in stacked.concepts]
    return {key: i for i, key in enumerate(keys)}


class DeltaPlan:
    """How to judge `candidate` on what `enforced` judged: results to reuse, rules to run."""

    def __init__(self, enforced: CompiledBundle, candidate: CompiledBundle) -> None:
        e, c = enforced.bundle, candidate.bundle
        self.enforced_sha256 = enforced.sha256
        self.candidate = candidate
        reused: set[tuple[str, str]] = set()
        # (kind, rule id) -> the candidate's (action, name), for rules differing in those only.
        relabelled: dict[tuple[str, str], tuple[Any, str]] = {}
        changed: dict[str, tuple] = {}
        for part, kind in PARTS.items():
            ours, theirs = getattr(c, part), getattr(e, part)
            # A conditional rule sets a request's image thresholds from other rules' results
            # (conditions.py), so no result stands alone: either bundle having one, judge all.
            if e.conditions or c.conditions or not (_unique_ids(ours) and _unique_ids(theirs)):
                changed[part] = ours  # ids do not name one rule each: judge them all
                continue
            by_id = {r.id: r for r in theirs}
            kept = [
                r
                for r in ours
                if r.id in by_id and same_rule(by_id[r.id], r) and _reads_same(part, r, e, c)
            ]
            reused |= {(kind, r.id) for r in kept}
            if part in RELABELLED_PARTS:
                relabelled |= {
                    (kind, r.id): (r.action, r.name)
                    for r in ours
                    if (kind, r.id) not in reused and r.id in by_id
                    and same_rule(by_id[r.id], r, ignore=LABELS) and _reads_same(part, r, e, c)
                }  # fmt: skip
            changed[part] = tuple(
                r for r in ours if (kind, r.id) not in reused and (kind, r.id) not in relabelled
            )
        self.reused = frozenset(reused)
        self.relabelled = relabelled
        self.rules_run = sum(len(rules) for rules in changed.values())
        self.delta: CompiledBundle | None = None
        if self.rules_run:
            self.delta = compile_bundle(dataclasses.replace(c, **changed))
        self._order = result_order(candidate)
        # (kind, rule id) -> None (reused as it is) or the (action, name) to relabel it with.
        self._carried: dict[tuple[str, str], tuple[Any, str] | None] = dict.fromkeys(reused)
        self._carried |= relabelled
        # Whether carried results, taken in the enforced decision's order, are in the
        # candidate's order already (no carried rule moved): then, with no rule to run,
        # nothing needs sorting.
        in_order = [k for k in result_order(enforced) if k[:2] in self._carried]
        self._in_order = self.delta is None and in_order == [
            k for k in self._order if k[:2] in self._carried
        ]

    def decisions(
        self, items: Sequence[Any], enforced: Sequence[Decision], *, models: ModelProvider
    ) -> list[Decision]:
        """The candidate's decision on each item, given the enforced decision on the same item.

        `models` answers the changed rules (a ReplayingModels gives them the enforced run's
        outputs); the decisions carry the candidate's stamp.
        """
        if len(items) != len(enforced):
            raise ValueError(f"{len(items)} items but {len(enforced)} enforced decisions")
        fresh = self._fresh(items, models)
        stamp, order = self.candidate.stamp, self._order
        out = []
        carried, in_order = self._carried, self._in_order
        for old, (results, calibrated) in zip(enforced, fresh, strict=True):
            kept = []
            for r in old.results:
                label = carried.get((r.kind, r.rule_id), _DROPPED)
                if label is None:
                    kept.append(r)
                elif label is not _DROPPED:
                    action, name = label
                    kept.append(RuleResult(r.kind, r.rule_id, name, r.modality, action, r.fired,
                                           r.score, r.threshold, r.explanation))  # fmt: skip
            merged = kept + results if results else kept
            if not in_order:
                merged.sort(key=lambda r: order.get((r.kind, r.rule_id, r.modality), len(order)))
            calibrated = calibrated and (old.calibrated or not kept)
            # Timings stay empty: what the shadow costs is not what a full evaluation costs.
            out.append(
                Decision.from_results(merged, timings_ms={}, stamp=stamp, calibrated=calibrated)
            )
        return out

    def outcomes(self, enforced: Sequence[Decision]) -> list[tuple[Action, list[str]]] | None:
        """Per enforced decision, the candidate's action and the ids of the rules that came
        out differently (fired in one bundle only, or fired with another action), without
        building the candidate's decisions; None when the plan runs rules (use decisions()).
        """
        if self.delta is not None:
            return None
        return [self.outcome(d) for d in enforced]

    def outcome(self, enforced: Decision) -> tuple[Action, list[str]]:
        """outcomes() of one decision, for a plan that runs no rule (`delta` is None).

        Every candidate result is then an enforced one carried over, so both follow from the
        enforced results: a reused result is the same in both and never differs; a
        relabelled one differs when it fired and its action changed; the result of a rule
        the candidate dropped differs when it fired. Where one id has two results (a rule on
        both modalities), the rule's action is the higher of its fired ones, as in
        moderation.fleet.shadow_results.differing_rules.
        """
        for r in enforced.results:
            if r.fired:
                break
        else:
            return _NOTHING_FIRED  # the common case
        carried, rank = self._carried, _RANK
        action = Action.ALLOW
        ours: dict[str, Action] = {}  # the enforced action of each non-reused rule fired
        theirs: dict[str, Action] = {}  # its action in the candidate (absent: dropped)
        for r in enforced.results:
            if not r.fired:
                continue
            label = carried.get((r.kind, r.rule_id), _DROPPED)
            now = r.action if label is None or label is _DROPPED else label[0]
            if label is not _DROPPED and rank[now] > rank[action]:
                action = now
            if label is None:
                continue
            held = ours.get(r.rule_id)
            if held is None or rank[r.action] > rank[held]:
                ours[r.rule_id] = r.action
            if label is not _DROPPED:
                held = theirs.get(r.rule_id)
                if held is None or rank[now] > rank[held]:
                    theirs[r.rule_id] = now
        return action, sorted(k for k in ours if ours[k] != theirs.get(k))

    def _fresh(
        self, items: Sequence[Any], models: ModelProvider
    ) -> list[tuple[list[RuleResult], bool]]:
        """The changed rules' results and calibration per item (evaluate_batch's stages)."""
        if self.delta is None:
            models.check_pins(self.candidate.bundle.pins)
            return [([], True) for _ in items]
        models.check_pins(self.delta.bundle.pins)
        run = _Run(self.delta, [coerce_item(item, i) for i, item in enumerate(items)], models)
        for stage in PIPELINE:
            run.stage(stage)
        return list(zip(run.results, run.calibrated, strict=True))
