"""evaluate(): judge prompts and images against a bundle, with one model call per stage.

Timings: each stage (normalise, keywords, embed, categories, concepts,
classifiers) runs once for the whole batch, and each input that took part is
charged an equal share of the stage's time; for a single input they are exact.
Encoder vectors and scorer outputs are computed once per batch and shared by
the stages that read them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from moderation.engine.bundle.types import Bundle, CategoryThreshold
from moderation.engine.compiled import CompiledBundle, compile_bundle
from moderation.engine.conditions import image_thresholds, judge_conditions
from moderation.engine.decision import Action, Decision, RuleResult
from moderation.engine.embedding_rules import explain as explain_embedding
from moderation.engine.embedding_rules import unit_rows
from moderation.engine.errors import EngineError, ModelOutputError
from moderation.engine.image_text import judge_image_text
from moderation.engine.inputs import Item, coerce_item, has_content
from moderation.engine.keywords import explain_matches
from moderation.engine.models.base import PinMismatch
from moderation.engine.providers import ModelProvider
from moderation.engine.textbatch import NormalizedBatch, normalize_batch

STAGES = ("normalise", "keywords", "embed", "categories", "concepts", "classifiers", "ocr")
# The model stages a staged evaluation runs, in evaluate_batch's order (see run_stage).
PIPELINE = ("prompt", "image", "concepts")
_SKIPPED_EMPTY = {"skipped": "empty prompt: no model judges it"}


def evaluate(
    bundle: Bundle | CompiledBundle,
    *,
    prompt: str | bytes | None = None,
    image: Any = None,
    models: ModelProvider,
) -> Decision:
    """Judge one prompt and/or image; the decision is stamped with the bundle's version."""
    return evaluate_batch(bundle, [Item(prompt, image)], models=models)[0]


def evaluate_batch(
    bundle: Bundle | CompiledBundle, items: Sequence[Any], *, models: ModelProvider
) -> list[Decision]:
    """Judge many inputs with one encoder call per modality; decisions keep the input order."""
    compiled = compile_bundle(bundle)
    models.check_pins(compiled.bundle.pins)
    run = _Run(compiled, [coerce_item(item, i) for i, item in enumerate(items)], models)
    for stage in PIPELINE:
        run.stage(stage)
    return run.decisions()


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


class _Run:
    """The state of one evaluate_batch call: inputs, per-input results and timings."""

    def __init__(self, compiled: CompiledBundle, items: list[Item], models: ModelProvider):
        self.compiled, self.items, self.models = compiled, items, models
        self.results: list[list[RuleResult]] = [[] for _ in items]
        self.timings = [dict.fromkeys(STAGES, 0.0) for _ in items]
        self.calibrated = [True] * len(items)
        # What one stage computed and a later one reuses: encoder vectors and scorer
        # outputs per modality, so a classifier adds no model call of its own.
        self._vectors: dict[str, tuple[dict[int, int], np.ndarray]] = {}
        self._outputs: dict[str, tuple[dict[int, dict], bool]] = {}

    def stage(self, stage: str) -> None:
        """Run one stage of PIPELINE on the whole batch."""
        if stage == "prompt":
            self.keywords()
            self.embeddings()
            self.categories("prompt")
            self.classifiers("prompt")
            judge_conditions(self)
        elif stage == "image":
            judge_image_text(self)
            self.categories("image")
            self.classifiers("image")
        else:
            self.concepts()

    def _charge(self, stage: str, rows: Sequence[int], start: float) -> None:
        share = _ms(start) / max(len(rows), 1)
        for i in rows:
            self.timings[i][stage] += share

    def decisions(self) -> list[Decision]:
        """Return one decision per input."""
        stamp = self.compiled.stamp
        out = []
        for results, timings, calibrated in zip(
            self.results, self.timings, self.calibrated, strict=True
        ):
            timings = {k: round(v, 3) for k, v in timings.items()}
            timings["total"] = round(sum(timings.values()), 3)
            out.append(
                Decision.from_results(
                    results, timings_ms=timings, stamp=stamp, calibrated=calibrated
                )
            )
        return out

    def keywords(self) -> None:
        """Normalise all prompts once per distinct folding, then match every keyword set."""
        sets = self.compiled.keyword_sets
        rows = [i for i, it in enumerate(self.items) if it.prompt is not None]
        if not sets or not rows:
            return
        texts = [self.items[i].prompt for i in rows]
        start = time.perf_counter()
        batches: dict[tuple, NormalizedBatch] = {}
        for ks in sets:
            key = ks.options.fold_key()
            if key not in batches:
                batches[key] = normalize_batch(texts, ks.options)
        self._charge("normalise", rows, start)
        start = time.perf_counter()
        for ks in sets:
            found = ks.find_batch(batches[ks.options.fold_key()])
            for i, matches in zip(rows, found, strict=True):
                self.results[i].append(_keyword_result(ks.keyword_set, matches))
        self._charge("keywords", rows, start)

    def embeddings(self) -> None:
        """Encode every non-empty prompt in one call and score every embedding set."""
        if not self.compiled.embedding:
            return
        rows = [i for i, it in enumerate(self.items) if it.prompt is not None]
        active = [i for i in rows if has_content(self.items[i].prompt)]
        start = time.perf_counter()
        row_of, vectors = self._prompt_vectors(active)
        for name in self.compiled.embedding:
            _check_encoder(
                "text", self.models.text_encoder(), name, self.compiled.bundle.dims[name]
            )
        for stacked in self.compiled.embedding.values():
            scores = stacked.score(vectors) if vectors is not None else None
            for k, es in enumerate(stacked.sets):
                for i in rows:
                    r = row_of.get(i)
                    if r is None:
                        self.results[i].append(_skipped("embedding", es, es.threshold))
                    else:
                        self.results[i].append(_embedding_result(es, scores[k], r))
        self._charge("embed", rows, start)

    def _prompt_vectors(self, rows: list[int]) -> tuple[dict[int, int], np.ndarray | None]:
        """The text encoder's unit vectors of the prompts at `rows`, encoded once per batch."""
        if "prompt" not in self._vectors:
            if not rows:
                return {}, None
            encoder = self.models.text_encoder()
            texts = [self.items[i].prompt for i in rows]
            what = f"text encoder {encoder.pin.name!r}"
            vectors = unit_rows(encoder.encode(texts), len(texts), encoder.dim, what)
            self._vectors["prompt"] = ({i: r for r, i in enumerate(rows)}, vectors)
        return self._vectors["prompt"]

    def _image_vectors(self, rows: list[int]) -> tuple[dict[int, int], np.ndarray]:
        """The image encoder's unit vectors of the images at `rows`, encoded once per batch."""
        if "image" not in self._vectors:
            encoder = self.models.image_encoder()
            what = f"image encoder {encoder.pin.name!r}"
            images = [self.items[i].image for i in rows]
            vectors = unit_rows(encoder.encode_images(images), len(rows), encoder.dim, what)
            self._vectors["image"] = ({i: r for r, i in enumerate(rows)}, vectors)
        return self._vectors["image"]

    def categories(self, modality: str) -> None:
        """Run each needed scorer once on the batch and compare category scores to thresholds."""
        thresholds = self.compiled.thresholds(modality)
        rows = [i for i, it in enumerate(self.items) if _input(it, modality) is not None]
        bundle = self.compiled.bundle
        conditioned = modality == "image" and bool(bundle.conditions)
        if not (thresholds or conditioned) or not rows:
            return
        active = [i for i in rows if modality == "image" or has_content(self.items[i].prompt)]
        start = time.perf_counter()
        outputs, calibrated = self._score(modality, active)
        mapping = self.compiled.bundle.category_outputs
        for i in rows:
            own = (
                image_thresholds(bundle, thresholds, self.results[i]) if conditioned else thresholds
            )
            for t in own:
                names = mapping[t.category].for_modality(modality)
                if i not in outputs:
                    result = _skipped("category", t, _lowest(t)[1], name=_threshold_name(t))
                else:
                    result = _category_result(t, modality, names, outputs[i])
                self.results[i].append(result)
            if i in outputs and not calibrated:
                self.calibrated[i] = False
        self._charge("categories", rows, start)

    def _score(self, modality: str, rows: list[int]) -> tuple[dict[int, dict], bool]:
        if not rows:
            return {}, True
        if modality not in self._outputs:
            self._outputs[modality] = self._run_scorers(modality, rows)
        return self._outputs[modality]

    def _run_scorers(self, modality: str, rows: list[int]) -> tuple[dict[int, dict], bool]:
        needed = self.compiled.outputs_needed(modality)
        scorers = [s for s in self.models.scorers(modality) if needed & set(s.outputs)]
        missing = needed - {name for s in scorers for name in s.outputs}
        if missing:
            raise EngineError(
                f"the bundle scores {modality}s with output {sorted(missing)[0]!r}, which no "
                f"loaded {modality} scorer produces; load that model or rebuild the bundle"
            )
        inputs = [_input(self.items[i], modality) for i in rows]
        merged: dict[int, dict[str, float]] = {i: {} for i in rows}
        for scorer in scorers:
            for i, scores in zip(rows, _run_scorer(scorer, inputs), strict=True):
                merged[i].update({n: scores.get(n, 0.0) for n in scorer.outputs if n in needed})
        calibrated = all(getattr(s, "calibrated", True) for s in scorers)
        return merged, calibrated

    def concepts(self) -> None:
        """Encode every image in one call and score every concept."""
        rows = [i for i, it in enumerate(self.items) if it.image is not None]
        if not self.compiled.concepts or not rows:
            return
        start = time.perf_counter()
        encoder = self.models.image_encoder()
        _, vectors = self._image_vectors(rows)
        for name, stacked in self.compiled.concepts.items():
            _check_encoder("image", encoder, name, self.compiled.bundle.dims[name])
            scores = stacked.score(vectors)
            for r, i in enumerate(rows):
                for k, concept in enumerate(stacked.concepts):
                    score = float(scores[r, k])
                    self.results[i].append(RuleResult(
                        "concept", concept.id, concept.name, "image", concept.action,
                        score >= concept.threshold, score, concept.threshold,
                        {"method": concept.method, "concept_score": score},
                    ))  # fmt: skip
        if not encoder.calibrated:
            for i in rows:
                self.calibrated[i] = False
        self._charge("concepts", rows, start)

    def classifiers(self, only: str) -> None:
        """Score every trained classifier of target `only` on the vectors and outputs the batch
        computed."""
        for (target, encoder_name), stacked in self.compiled.classifiers.items():
            if target != only:
                continue
            rows = [i for i, it in enumerate(self.items) if _input(it, target) is not None]
            active = [i for i in rows if target == "image" or has_content(self.items[i].prompt)]
            if not rows:
                continue
            start = time.perf_counter()
            scores = self._classifier_scores(target, encoder_name, stacked, active)
            for i in rows:
                for k, c in enumerate(stacked.classifiers):
                    if i not in scores:
                        self.results[i].append(_skipped("classifier", c, c.threshold))
                        continue
                    score = float(scores[i][k])
                    self.results[i].append(RuleResult(
                        "classifier", c.id, c.name, target, c.action, score >= c.threshold,
                        score, c.threshold, {"version": c.version, "classifier_score": score},
                    ))  # fmt: skip
            self._charge("classifiers", rows, start)

    def _classifier_scores(self, target, encoder_name, stacked, rows) -> dict[int, np.ndarray]:
        if not rows:
            return {}
        dim = self.compiled.bundle.dims[encoder_name]
        if target == "prompt":
            encoder = self.models.text_encoder()
            _check_encoder("text", encoder, encoder_name, dim)
            row_of, vectors = self._prompt_vectors(rows)
        else:
            encoder = self.models.image_encoder()
            _check_encoder("image", encoder, encoder_name, dim)
            row_of, vectors = self._image_vectors(rows)
        outputs, calibrated = self._score(target, rows) if stacked.outputs else ({}, True)
        matrix = stacked.score(
            vectors[[row_of[i] for i in rows]], [outputs.get(i, {}) for i in rows]
        )
        if not calibrated or (target == "image" and not encoder.calibrated):
            for i in rows:
                self.calibrated[i] = False
        return {i: matrix[r] for r, i in enumerate(rows)}


def _input(item: Item, modality: str) -> Any:
    return item.prompt if modality == "prompt" else item.image


def _check_encoder(kind: str, encoder: Any, name: str, dim: int) -> None:
    if encoder.pin.name != name or encoder.dim != dim:
        raise PinMismatch(
            f"the bundle's vectors come from {kind} encoder {name!r} ({dim} dimensions); "
            f"the loaded {kind} encoder is {encoder.pin.name!r} ({encoder.dim} dimensions)"
        )


def _run_scorer(scorer: Any, inputs: list) -> list[dict[str, float]]:
    name = scorer.pin.name
    out = scorer.score(inputs)
    if len(out) != len(inputs):
        raise ModelOutputError(f"scorer {name!r} returned {len(out)} results for {len(inputs)}")
    for scores in out:
        for key, value in scores.items():
            if not (isinstance(value, int | float | np.floating) and 0.0 <= value <= 1.0):
                raise ModelOutputError(f"scorer {name!r} gave {key}={value!r}, not in [0, 1]")
    return out


def _embedding_result(es: Any, scores: Any, row: int) -> RuleResult:
    fired, score = bool(scores.fired[row]), float(scores.score[row])
    explanation = explain_embedding(es, scores, row)
    return RuleResult("embedding", es.id, es.name, "prompt", es.action, fired, score,
                      es.threshold, explanation)  # fmt: skip


def _keyword_result(ks: Any, matches: list) -> RuleResult:
    return RuleResult("keyword", ks.id, ks.name, "prompt", ks.action, bool(matches),
                      1.0 if matches else 0.0, None, explain_matches(matches))  # fmt: skip


def _threshold_name(t: CategoryThreshold) -> str:
    return f"{t.category} ({t.source})"


def _lowest(t: CategoryThreshold) -> tuple[Action, float]:
    if t.review_at is not None:
        return Action.REVIEW, t.review_at
    return Action.BLOCK, t.block_at


def _skipped(kind: str, rule: Any, threshold: float, *, name: str | None = None) -> RuleResult:
    action = _lowest(rule)[0] if kind == "category" else rule.action
    return RuleResult(kind, rule.id, name or rule.name, "prompt", action, False, 0.0, threshold,
                      dict(_SKIPPED_EMPTY))  # fmt: skip


def _category_result(
    t: CategoryThreshold, modality: str, names: tuple[str, ...], scores: dict[str, float]
) -> RuleResult:
    values = {n: float(scores[n]) for n in names}
    output = max(names, key=lambda n: values[n])
    score = values[output]
    if t.block_at is not None and score >= t.block_at:
        action, threshold, fired = Action.BLOCK, t.block_at, True
    elif t.review_at is not None and score >= t.review_at:
        action, threshold, fired = Action.REVIEW, t.review_at, True
    else:
        (action, threshold), fired = _lowest(t), False
    explanation = {
        "category": t.category,
        "source": t.source,
        "category_score": score,
        "output": output,
        "model": output.partition(".")[0],
        "outputs": values,
        "review_at": t.review_at,
        "block_at": t.block_at,
    }
    if getattr(t, "changes", None):
        explanation["condition"] = t.changes  # which conditions set it, each level from → to
    return RuleResult("category", t.id, _threshold_name(t), modality, action, fired, score,
                      threshold, explanation)  # fmt: skip
