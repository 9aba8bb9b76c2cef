"""The staged form of evaluate_batch: stage by stage, on batches that differ per stage."""

import pytest

from moderation.engine.decision import Action
from moderation.engine.evaluate import PIPELINE, evaluate_batch
from moderation.engine.inputs import Item
from moderation.engine.staged import run_stage, stage_needed, staged_decisions, staged_items

from .conftest import solid


def rounded(value):
    # A matrix product's last bits depend on the batch's shape: scores agree to float32.
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


def comparable(decision):
    return decision.action, rounded([r.as_dict() for r in decision.results]), decision.calibrated


ITEMS = [
    Item("a cat on a sofa", None),
    Item("naked people", solid((250, 10, 10))),
    Item(None, solid((10, 200, 10))),
    Item("buy illegal guns online", solid((240, 240, 240))),
    Item("sex", None),
    Item("   ", solid((255, 0, 0))),
]


def test_stages_on_shuffled_batches_give_evaluate_batchs_decisions(bundle, models):
    expected = [comparable(d) for d in evaluate_batch(bundle, ITEMS, models=models)]
    partials = staged_items(bundle, ITEMS, models=models)
    # Each stage sees another grouping of the inputs, as the service's batcher would make.
    groupings = {"prompt": [[0, 4], [1, 2, 3, 5]], "image": [[5, 1], [3, 2]], "concepts": [[2]]}
    for stage in PIPELINE:
        seen = set()
        for group in groupings[stage]:
            batch = [partials[i] for i in group if stage_needed(bundle, stage, ITEMS[i])]
            run_stage(bundle, stage, batch, models=models)
            seen.update(group)
        for i in set(range(len(ITEMS))) - seen:
            if stage_needed(bundle, stage, ITEMS[i]):
                run_stage(bundle, stage, [partials[i]], models=models)

    got = [comparable(d) for d in staged_decisions(bundle, partials)]

    assert got == expected
    assert partials[1].stages == dict.fromkeys(PIPELINE, "ran")
    assert "image" not in partials[0].stages


def test_one_model_call_per_stage_batch(bundle, models):
    partials = staged_items(bundle, ITEMS, models=models)
    models.text.calls.clear()  # building the bundle encoded its examples
    run_stage(bundle, "prompt", [p for p in partials if p.item.prompt is not None], models=models)
    assert models.text.calls == [["a cat on a sofa", "naked people", "buy illegal guns online",
                                  "sex"]]  # fmt: skip
    assert partials[4].action() is Action.BLOCK


def test_stage_needed_follows_the_bundle_and_the_input(bundle, bundle_factory, models):
    assert stage_needed(bundle, "image", Item(None, solid((1, 2, 3))))
    assert not stage_needed(bundle, "image", Item("text only", None))
    keywords_only = bundle_factory(
        models, thresholds=(), embedding_sets=(), concepts=(), category_outputs={}
    )
    assert not stage_needed(keywords_only, "concepts", Item(None, solid((1, 2, 3))))
    with pytest.raises(ValueError, match="unknown stage 'audio'"):
        stage_needed(bundle, "audio", ITEMS[0])
