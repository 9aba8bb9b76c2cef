"""The one bundle builder: live tests, suites and publishing all build a policy through it.

A draft is built exactly as it would be published, with the platform floor
merged in: a tenant threshold looser than the floor is tightened to the
floor, a floored category the tenant did not set comes from the floor, and
the floor's locked keyword sets are included.
"""

from dataclasses import dataclass, field

import numpy as np

from kernel.errors import ApplicationError
from kernel.vectors import image_vectors, text_vectors
from moderation.engine.bundle.types import (
    Bundle,
    CategoryThreshold,
    Concept,
    EmbeddingSet,
    KeywordSet,
    PolicyInfo,
    Sampling,
)
from moderation.engine.catalogue import load_catalogue
from moderation.engine.concepts import concept_vectors
from moderation.engine.decision import Action
from moderation.engine.images import load_image
from policy_admin.bundles.classifiers import classifier_rules
from policy_admin.bundles.conditions import condition_categories, condition_rows, condition_rules
from policy_admin.bundles.image_text import image_text_sets
from policy_admin.models import ClipConcept, FloorKeywordSet, KeywordRuleSet, Policy
from policy_admin.selectors import policies as selectors
from tenants.scoping import scoped

# Generic captions encoded by the CLIP text tower: the shared background class
# a linear probe learns to separate a concept's positives from.
BACKGROUND_CAPTIONS = (
    "a photo",
    "a landscape",
    "a city street",
    "a portrait of a person",
    "a room interior",
    "a plate of food",
    "an animal",
    "a car",
    "a drawing",
    "a screenshot of text",
    "a group of people",
    "a building",
    "a product photo",
    "a beach",
    "a forest",
)


@dataclass
class BuildResult:
    """The bundle, and what the builder left out of a draft and why."""

    bundle: Bundle
    warnings: list[str] = field(default_factory=list)


def bundle_build(
    *, policy: Policy, models, version: int | None = None, strict: bool = False
) -> BuildResult:
    """Build `policy`'s current draft; `strict` (publishing) refuses what a draft test skips."""
    warnings: list[str] = []
    draft = selectors.policy_draft(policy=policy)
    floors = selectors.floor()["categories"]
    thresholds = _thresholds(draft["thresholds"], floors)
    conditions = condition_rows(policy)
    outputs, scorer_pins = _category_outputs(thresholds, models, condition_categories(conditions))
    thresholds = _scorable(thresholds, outputs, warnings)
    embedding_sets = _embedding_sets(draft["embedding_sets"], models)
    concepts = _concepts(draft["concepts"], models, strict, warnings)
    pins, dims = dict(scorer_pins), {}
    if embedding_sets:
        encoder = models.text_encoder()
        pins[encoder.pin.name], dims[encoder.pin.name] = encoder.pin, encoder.dim
    if concepts:
        encoder = models.image_encoder()
        pins[encoder.pin.name], dims[encoder.pin.name] = encoder.pin, encoder.dim
    classifiers = classifier_rules(policy, models, pins, dims, strict, warnings)
    keyword_sets = image_text_sets(_keyword_sets(policy), models, pins, strict, warnings)
    embedding_sets = image_text_sets(embedding_sets, models, pins, strict, warnings)
    conditions = condition_rules(
        conditions,
        rule_ids={r.id: r.applies_to for r in (*keyword_sets, *embedding_sets)},
        outputs=outputs,
        floors=floors,
        strict=strict,
        warnings=warnings,
    )
    bundle = Bundle.create(
        policy=PolicyInfo(
            tenant=policy.tenant.slug,
            slug=policy.slug,
            name=policy.name,
            version=version,
            revision=policy.revision,
        ),
        pins=pins,
        dims=dims,
        category_outputs=outputs,
        thresholds=tuple(thresholds),
        keyword_sets=tuple(keyword_sets),
        embedding_sets=tuple(embedding_sets),
        concepts=tuple(concepts),
        sampling=_sampling(policy),
        classifiers=tuple(classifiers),
        failure_mode=policy.failure_mode,
        conditions=tuple(conditions),
    )
    return BuildResult(bundle=bundle, warnings=warnings)


def _sampling(policy: Policy) -> Sampling:
    """The policy's sampling rules as they stand now (the model's defaults before any save)."""
    row = selectors.decision_sampling(policy)
    return Sampling(
        enabled=row.enabled,
        review_per_minute=row.review_per_minute,
        audit_share=float(row.audit_share),
        keep_blocks=row.keep_blocks,
        thumbnail_px=row.thumbnail_px,
    )


def _thresholds(own, floors) -> list[CategoryThreshold]:
    """One threshold per (category, modality): the stricter of the policy's and the floor's."""
    catalogue = load_catalogue()
    merged: dict[tuple[str, str], list] = {}
    for source, rows in (("policy", [t for t in own if t.enabled]), ("floor", floors)):
        for row in rows:
            supported = _modalities(catalogue.get(row.category).applies_to)
            for modality in _modalities(row.applies_to):
                if modality in supported:
                    merged.setdefault((row.category, modality), []).append((source, row))
    result = []
    for (category, modality), rows in sorted(merged.items()):
        review = min(r.review_at for _, r in rows)
        block = min(r.block_at for _, r in rows)
        policy_rows = [r for s, r in rows if s == "policy"]
        tightened = not policy_rows or (
            review < min(r.review_at for r in policy_rows)
            or block < min(r.block_at for r in policy_rows)
        )
        result.append(
            CategoryThreshold(
                id=f"{category}:{modality}",
                category=category,
                applies_to=modality,
                review_at=review,
                block_at=block,
                source="floor" if tightened else "policy",
            )
        )
    return result


def _scorable(thresholds, outputs, warnings: list[str]) -> list[CategoryThreshold]:
    """Thresholds some loaded model can score; the others are named in the warnings."""
    kept, unscored = [], {}
    for t in thresholds:
        if outputs[t.category].for_modality(t.applies_to):
            kept.append(t)
        else:
            unscored.setdefault(t.applies_to, []).append(t.category)
    for modality, categories in sorted(unscored.items()):
        warnings.append(
            f"Not scored on {modality}s: {', '.join(categories)}. No model loaded in this "
            "deployment feeds them (CLIP zero-shot categories need real CLIP weights)."
        )
    return kept


def _modalities(applies_to: str) -> tuple[str, ...]:
    return ("prompt", "image") if applies_to == "both" else (applies_to,)


def _category_outputs(thresholds, models, extra=()):
    """Each category's outputs from the models this process has, and those models' pins."""
    available = models.pins()
    outputs = load_catalogue().category_outputs({t.category for t in thresholds} | set(extra))
    kept, pins = {}, {}
    for category, entry in outputs.items():
        prompt = tuple(o for o in entry.prompt if o.split(".", 1)[0] in available)
        image = tuple(o for o in entry.image if o.split(".", 1)[0] in available)
        for name in {o.split(".", 1)[0] for o in prompt + image}:
            pins[name] = available[name]
        kept[category] = type(entry)(prompt=prompt, image=image)
    return kept, pins


def keyword_set_bundled(row: KeywordRuleSet) -> KeywordSet:
    """A draft keyword set exactly as a bundle built now holds it (robustness reports judge it)."""
    return _keyword_set(row, f"keywords:{row.pk}")


def _keyword_sets(policy: Policy) -> list[KeywordSet]:
    own = scoped(KeywordRuleSet, policy.tenant).filter(policy=policy).order_by("name")
    sets = [keyword_set_bundled(k) for k in own if k.term_count]
    sets += [_keyword_set(k, f"floor-keywords:{k.pk}") for k in FloorKeywordSet.objects.all()]
    return sets


def _keyword_set(row, rule_id: str) -> KeywordSet:
    return KeywordSet(
        id=rule_id,
        name=row.name,
        action=Action(row.action),
        terms=tuple(row.term_list()),
        allow=tuple(row.allow_list_terms()),
        options=row.match_options(),
        # The floor's locked sets read prompts.
        applies_to=getattr(row, "applies_to", "prompt"),
    )


def _embedding_sets(rows, models) -> list[EmbeddingSet]:
    if not rows:
        return []
    encoder = models.text_encoder()
    sets = []
    for row in rows:
        examples = text_vectors(encoder, row.examples)
        counters = text_vectors(encoder, row.counter_examples)
        sets.append(
            EmbeddingSet(
                id=f"embedding:{row.pk}",
                name=row.name,
                action=Action(row.action),
                threshold=row.threshold,
                encoder=encoder.pin.name,
                examples=tuple(row.examples),
                example_vectors=_unit(examples),
                counter_examples=tuple(row.counter_examples),
                counter_vectors=_unit(counters) if len(counters) else None,
                applies_to=row.applies_to,
            )
        )
    return sets


def _concepts(rows: list[ClipConcept], models, strict: bool, warnings: list[str]) -> list[Concept]:
    ready = []
    for row in rows:
        positives = [i for i in row.images.all() if i.positive]
        if len(positives) < ClipConcept.MIN_POSITIVES:
            problem = (
                f"Concept “{row.name}” has {len(positives)} positive example image(s); it needs "
                f"at least {ClipConcept.MIN_POSITIVES}."
            )
            if strict:
                raise ApplicationError(problem)
            warnings.append(problem + " It was left out of this test.")
            continue
        ready.append(row)
    if not ready:
        return []
    encoder = models.image_encoder()
    background = encoder.encode_texts(list(BACKGROUND_CAPTIONS))
    return [_concept(row, encoder, background) for row in ready]


def _concept(row: ClipConcept, encoder, background: np.ndarray) -> Concept:
    images = list(row.images.all())
    vectors = image_vectors(encoder, [i.sha256 for i in images], lambda n: _read(images[n]))
    positive = np.array([i.positive for i in images])
    made = concept_vectors(
        encoder,
        vectors[positive],
        vectors[~positive],
        method=row.method,
        background=background,
        hints=row.text_hints or None,
    )
    return Concept(
        id=f"concept:{row.pk}",
        name=row.name,
        action=Action(row.action),
        method=row.method,
        threshold=row.threshold,
        encoder=made.encoder,
        vector=made.vector,
        bias=made.bias,
    )


def _read(image):
    with image.image.open("rb") as handle:
        return load_image(handle.read(), name=image.original_name)


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)
