"""Delta plans: a candidate judged on the enforced results, running only its changed rules."""

import dataclasses

import numpy as np
import pytest

from moderation.engine.bundle import (
    CategoryThreshold,
    Condition,
    ConditionalRule,
    ConditionThreshold,
    KeywordSet,
    MatchOptions,
    PolicyInfo,
)
from moderation.engine.compiled import compile_bundle
from moderation.engine.decision import Action
from moderation.engine.delta import DeltaPlan, same_rule
from moderation.engine.evaluate import evaluate_batch
from moderation.engine.inputs import Item
from moderation.engine.recording import RecordingModels, ReplayingModels
from moderation.fleet.shadow_results import differing_rules

from .conftest import build_bundle, make_pin, solid
from .test_engine_staged import comparable

ITEMS = [
    Item("a cat on a sofa", None),
    Item("naked people on the beach", solid((250, 10, 10))),
    Item(None, solid((10, 200, 10))),
    Item("buy illegal guns online from acme rival", solid((240, 240, 240))),
    Item("sex", None),
    Item("   ", solid((255, 0, 0))),
]

STRICTER_KEYWORDS = KeywordSet(
    "kw-brands", "Competitors", Action.BLOCK, ("acme rival",), (), MatchOptions(mode="substring")
)


MINOR_SIGNAL = ConditionalRule(
    "cond-brands",
    "Brand signal",
    Condition("keyword_set", rule="kw-brands"),
    (ConditionThreshold("nudity", 0.01, 0.02),),
)


def candidate_of(models, **overrides):
    overrides.setdefault("policy", PolicyInfo("acme", "default", "Default policy", 4, 8))
    return build_bundle(models, **overrides)


def relabelled(rule):
    """`rule` with another action and name: what it scores and fires on is unchanged."""
    action = Action.FLAG if rule.action == Action.BLOCK else Action.BLOCK
    return dataclasses.replace(rule, action=action, name=f"{rule.name} (stricter)")


def changes(models, bundle):
    """Candidates that differ from `bundle` in one way each, named for the test ids."""
    kw = bundle.keyword_sets
    return {
        "keyword action": {"keyword_sets": (kw[0], STRICTER_KEYWORDS)},
        "keyword added": {
            "keyword_sets": (*kw, KeywordSet("kw-cat", "Cats", Action.REVIEW, ("cat",)))
        },  # fmt: skip
        "keyword removed": {"keyword_sets": kw[:1]},
        "threshold": {
            "thresholds": (CategoryThreshold("cat-nudity", "nudity", "both", 0.3, 0.55),)
        },
        "embedding threshold": {
            "embedding_sets": (dataclasses.replace(bundle.embedding_sets[0], threshold=0.3),)
        },
        "concept threshold": {
            "concepts": (dataclasses.replace(bundle.concepts[0], threshold=0.2),)
        },
        "keyword relabelled": {"keyword_sets": (relabelled(kw[0]), *kw[1:])},
        "embedding relabelled": {"embedding_sets": (relabelled(bundle.embedding_sets[0]),)},
        "concept relabelled": {"concepts": (relabelled(bundle.concepts[0]),)},
        "nothing but the version": {},
        # The prompt "buy illegal guns online from acme rival" fires kw-brands, whose condition
        # lowers its image's nudity thresholds: an unchanged threshold's result changes.
        "condition added": {"conditions": (MINOR_SIGNAL,)},
    }


@pytest.mark.parametrize(
    "change",
    ["keyword action", "keyword added", "keyword removed", "threshold", "embedding threshold",
     "concept threshold", "keyword relabelled", "embedding relabelled", "concept relabelled",
     "nothing but the version", "condition added"],
)  # fmt: skip
def test_the_plan_gives_a_full_evaluations_decisions(models, change):
    enforced = compile_bundle(build_bundle(models))
    candidate = compile_bundle(candidate_of(models, **changes(models, enforced.bundle)[change]))
    recording = RecordingModels(models)
    served = evaluate_batch(enforced, ITEMS, models=recording)
    expected = [comparable(d) for d in evaluate_batch(candidate, ITEMS, models=models)]

    plan = DeltaPlan(enforced, candidate)
    got = plan.decisions(ITEMS, served, models=ReplayingModels(models, [recording.memo]))

    assert [comparable(d) for d in got] == expected
    assert all(d.stamp == candidate.stamp for d in got)


def test_only_the_changed_rules_run(models):
    enforced = compile_bundle(build_bundle(models))
    more_terms = dataclasses.replace(STRICTER_KEYWORDS, terms=("acme rival", "acme clone"))
    candidate = compile_bundle(candidate_of(models, keyword_sets=(enforced.bundle.keyword_sets[0],
                                                                  more_terms)))  # fmt: skip
    plan = DeltaPlan(enforced, candidate)

    assert plan.rules_run == 1
    assert [ks.id for ks in plan.delta.bundle.keyword_sets] == ["kw-brands"]
    assert plan.delta.bundle.thresholds == ()
    assert plan.delta.bundle.concepts == ()
    served = evaluate_batch(enforced, ITEMS, models=models)
    calls = len(models.text.calls), len(models.image.calls)
    plan.decisions(ITEMS, served, models=models)
    # No model stage has a changed rule: the models are not asked again.
    assert (len(models.text.calls), len(models.image.calls)) == calls


def test_a_rule_changed_in_its_action_only_is_relabelled_not_run(models):
    enforced = compile_bundle(build_bundle(models))
    bundle = enforced.bundle
    stricter = relabelled(bundle.keyword_sets[0])
    keyword_sets = (stricter, *bundle.keyword_sets[1:])
    concepts = (relabelled(bundle.concepts[0]),)
    candidate = compile_bundle(candidate_of(models, keyword_sets=keyword_sets, concepts=concepts))
    plan = DeltaPlan(enforced, candidate)

    assert plan.rules_run == 0
    assert plan.delta is None
    assert set(plan.relabelled) == {("keyword", stricter.id), ("concept", bundle.concepts[0].id)}
    served = evaluate_batch(enforced, ITEMS, models=models)
    calls = len(models.text.calls), len(models.image.calls)
    got = plan.decisions(ITEMS, served, models=models)
    assert (len(models.text.calls), len(models.image.calls)) == calls
    fired = [r for d in got for r in d.fired if r.rule_id == stricter.id]
    assert fired, "the relabelled keyword set fires on the ITEMS that hold its terms"
    assert {(r.action, r.rule_name) for r in fired} == {(stricter.action, stricter.name)}


@pytest.mark.parametrize(
    "change",
    ["keyword action", "keyword removed", "keyword relabelled", "embedding relabelled",
     "concept relabelled", "nothing but the version"],
)  # fmt: skip
def test_outcomes_without_decisions_are_what_the_decisions_give(models, change):
    enforced = compile_bundle(build_bundle(models))
    candidate = compile_bundle(candidate_of(models, **changes(models, enforced.bundle)[change]))
    served = evaluate_batch(enforced, ITEMS, models=models)
    plan = DeltaPlan(enforced, candidate)
    decisions = plan.decisions(ITEMS, served, models=models)

    expected = [(d.action, differing_rules(e, d)) for e, d in zip(served, decisions, strict=True)]
    assert plan.outcomes(served) == expected
    if change.startswith("keyword"):  # the keyword sets fire on ITEMS: something differs
        assert any(differing for _, differing in expected)


def test_a_plan_that_runs_rules_gives_no_outcomes(models):
    enforced = compile_bundle(build_bundle(models))
    candidate = compile_bundle(
        candidate_of(models, **changes(models, enforced.bundle)["threshold"])
    )
    plan = DeltaPlan(enforced, candidate)

    assert plan.outcomes(evaluate_batch(enforced, ITEMS, models=models)) is None


def test_a_candidate_on_other_model_pins_reuses_keyword_results_only(models):
    enforced = compile_bundle(build_bundle(models))
    pins = dict(enforced.bundle.pins)
    pins["clip"] = make_pin("clip", "2")  # another CLIP checkpoint
    candidate = compile_bundle(candidate_of(models, pins=pins))
    plan = DeltaPlan(enforced, candidate)

    assert {kind for kind, _ in plan.reused} == {"keyword"}


def test_a_candidate_with_conditions_is_judged_in_full(models):
    enforced = compile_bundle(build_bundle(models, conditions=(MINOR_SIGNAL,)))
    plan = DeltaPlan(enforced, compile_bundle(candidate_of(models, conditions=(MINOR_SIGNAL,))))

    assert plan.reused == frozenset()
    assert plan.delta is not None
    assert plan.delta.bundle.conditions == (MINOR_SIGNAL,)


def test_an_identical_candidate_runs_no_rule(models):
    enforced = compile_bundle(build_bundle(models))
    plan = DeltaPlan(enforced, compile_bundle(candidate_of(models)))

    assert plan.delta is None
    assert plan.rules_run == 0


def test_same_rule_compares_vectors_exactly(models):
    concept = build_bundle(models).concepts[0]
    nudged = dataclasses.replace(concept, vector=concept.vector + np.float32(1e-6))

    assert same_rule(concept, dataclasses.replace(concept, vector=concept.vector.copy()))
    assert not same_rule(concept, nudged)


def test_decisions_and_items_must_pair_up(models):
    enforced = compile_bundle(build_bundle(models))
    plan = DeltaPlan(enforced, compile_bundle(candidate_of(models)))

    with pytest.raises(ValueError, match="2 items but 1 enforced decisions"):
        plan.decisions(ITEMS[:2], evaluate_batch(enforced, ITEMS[:1], models=models), models=models)
