"""The staged form of evaluate_batch: one stage at a time, on batches that may differ per stage.

The fleet agent's service (moderation.fleet.batching) gathers the inputs of many
requests into each stage's model batch. Running every stage of PIPELINE on a
partial gives the results evaluate_batch gives, in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moderation.engine.bundle.types import Bundle
from moderation.engine.compiled import CompiledBundle, compile_bundle
from moderation.engine.decision import Action, RuleResult, final_action
from moderation.engine.evaluate import PIPELINE, STAGES, _Run
from moderation.engine.image_text import needs_image_text
from moderation.engine.inputs import Item, coerce_item
from moderation.engine.providers import ModelProvider


class Partial:
    """One input part-way through a staged evaluation: the results of the stages run so far.

    A staged evaluation runs each stage of PIPELINE on a batch of partials that may differ
    from stage to stage (inputs from other requests join or leave); since every result of an
    input depends on that input alone, running all of PIPELINE on a partial gives the same
    results, in the same order, as evaluate_batch.
    """

    __slots__ = ("item", "results", "timings", "calibrated", "stages", "memos", "tag")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.results: list[RuleResult] = []
        self.timings = dict.fromkeys(STAGES, 0.0)
        self.calibrated = True
        self.stages: dict[str, str] = {}  # stage -> "ran" or why it was skipped
        # The recorded model outputs of the stage batches it ran in, when its caller records
        # them (moderation/engine/recording.py: a shadow judges on them); empty otherwise.
        self.memos: list = []
        # Whatever the caller marks the input with (the fleet: the shadow that samples it).
        self.tag: Any = None

    def action(self) -> Action:
        """The action of the results so far (allow when none fired)."""
        return final_action(self.results)


def staged_items(
    bundle: Bundle | CompiledBundle, items: Sequence[Any], *, models: ModelProvider
) -> list[Partial]:
    """Validate inputs (as evaluate_batch does) and return them ready for run_stage."""
    compiled = compile_bundle(bundle)
    models.check_pins(compiled.bundle.pins)
    return [Partial(coerce_item(item, i)) for i, item in enumerate(items)]


def stage_needed(bundle: Bundle | CompiledBundle, stage: str, item: Item) -> bool:
    """Whether `stage` has anything to judge in `item` under `bundle`."""
    compiled = compile_bundle(bundle)
    targets = {target for target, _ in compiled.classifiers}
    if stage == "prompt":
        return item.prompt is not None and bool(
            compiled.keyword_sets
            or compiled.embedding
            or compiled.thresholds("prompt")
            or "prompt" in targets
            or compiled.bundle.conditions
        )
    if stage == "image":
        return item.image is not None and bool(
            compiled.thresholds("image")
            or "image" in targets
            or needs_image_text(compiled)
            or compiled.bundle.conditions
        )
    if stage == "concepts":
        return item.image is not None and bool(compiled.concepts)
    raise ValueError(f"unknown stage {stage!r}; use one of {', '.join(PIPELINE)}")


def run_stage(
    bundle: Bundle | CompiledBundle,
    stage: str,
    partials: Sequence[Partial],
    *,
    models: ModelProvider,
) -> None:
    """Run one stage of PIPELINE on every partial, with one model call per stage and modality."""
    if stage not in PIPELINE:
        raise ValueError(f"unknown stage {stage!r}; use one of {', '.join(PIPELINE)}")
    run = _Run(compile_bundle(bundle), [p.item for p in partials], models)
    run.results = [p.results for p in partials]
    run.timings = [p.timings for p in partials]
    run.calibrated = [p.calibrated for p in partials]
    run.stage(stage)
    for p, calibrated in zip(partials, run.calibrated, strict=True):
        p.calibrated = calibrated
        p.stages[stage] = "ran"


def staged_decisions(bundle: Bundle | CompiledBundle, partials: Sequence[Partial]) -> list:
    """Return the decision of each partial from the results of the stages it ran."""
    run = _Run(compile_bundle(bundle), [p.item for p in partials], None)
    run.results = [p.results for p in partials]
    run.timings = [p.timings for p in partials]
    run.calibrated = [p.calibrated for p in partials]
    return run.decisions()
