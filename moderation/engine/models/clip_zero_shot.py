"""CLIP zero-shot image categories: "clip_zero_shot.<category>" against a neutral prompt set.

Each category is scored on its own (an image can be both violent and gory):
``sigmoid(scale * (best category prompt cosine - best neutral prompt cosine))`` with
``scale`` 100, CLIP's trained logit scale. That is the two-way softmax between "the
category" and "an ordinary picture", so 0.5 means "as close to the category as to the
neutral set". The scores mean something only with real weights (``calibrated``); with a
random-initialised backbone they are noise, and ``calibrated`` is False.

The pin is named "clip_zero_shot", not "clip", because the contract makes output names
"<pin.name>.<label>" and "clip" is already the backbone's pin; it changes when the
backbone, the category prompts, the neutral prompts or the scale change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from moderation.engine.models.base import ImageEncoder, ModelPin
from moderation.engine.models.hashing import sha256_parts
from moderation.engine.models.text_categories import examples_sha256, validate_examples

PIN_NAME = "clip_zero_shot"
DEFAULT_SCALE = 100.0
TEMPLATE = "a photo containing {}."
NEUTRAL_PROMPTS = (
    "an ordinary photo.",
    "a photo of a landscape.",
    "a photo of everyday objects.",
    "a photo of a fully clothed person.",
    "a photo of food.",
    "a photo of an animal.",
    "a photo of a building.",
    "a drawing.",
)


def zero_shot_pin(
    encoder_pin: ModelPin,
    prompts: Mapping[str, Sequence[str]],
    neutral: Sequence[str] = NEUTRAL_PROMPTS,
    scale: float = DEFAULT_SCALE,
) -> ModelPin:
    """Return the pin covering the backbone, every prompt and the scale."""
    prompt_sha = examples_sha256({**prompts, "\x00neutral": list(neutral)})
    version = (
        f"CLIP zero-shot, {len(prompts)} categories vs {len(neutral)} neutral prompts, "
        f"scale {scale:g} (prompts sha256 {prompt_sha[:16]}; backbone {encoder_pin.version} "
        f"sha256 {encoder_pin.sha256[:16]})"
    )
    sha = sha256_parts(
        [("backbone", encoder_pin.sha256), ("prompts", prompt_sha), ("scale", repr(scale))]
    )
    return ModelPin(name=PIN_NAME, version=version, sha256=sha)


def category_prompts(examples: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Return CLIP prompts built from category phrases with TEMPLATE ("a photo containing ...")."""
    return {c: [TEMPLATE.format(p.strip().rstrip(".")) for p in ps] for c, ps in examples.items()}


class ClipZeroShotScorer:
    """Scores RGB images with one "clip_zero_shot.<category>" output per category, in [0, 1]."""

    modality = "image"

    def __init__(
        self,
        encoder: ImageEncoder,
        prompts: Mapping[str, Sequence[str]],
        *,
        neutral: Sequence[str] = NEUTRAL_PROMPTS,
        scale: float = DEFAULT_SCALE,
    ) -> None:
        checked = validate_examples(prompts)
        if not checked or not neutral:
            raise ValueError(
                "CLIP zero-shot needs category prompts and at least one neutral prompt"
            )
        self.categories = tuple(sorted(checked))
        self.outputs = tuple(f"{PIN_NAME}.{c}" for c in self.categories)
        self.calibrated = bool(encoder.calibrated)
        self.scale = scale
        self.pin = zero_shot_pin(encoder.pin, checked, neutral, scale)
        self._encoder = encoder
        texts = [p for c in self.categories for p in checked[c]]
        self._vectors = encoder.encode_texts(texts)
        self._neutral = encoder.encode_texts(list(neutral))
        sizes = [len(checked[c]) for c in self.categories]
        self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)

    def score(self, inputs: Sequence) -> list[dict[str, float]]:
        """Return one {"clip_zero_shot.<category>": probability} per image, in input order."""
        if not inputs:
            return []
        images = self._encoder.encode_images(list(inputs))
        best = np.maximum.reduceat(images @ self._vectors.T, self._starts, axis=1)
        neutral = (images @ self._neutral.T).max(axis=1, keepdims=True)
        probability = 1.0 / (1.0 + np.exp(-self.scale * (best - neutral)))
        return [dict(zip(self.outputs, map(float, row), strict=True)) for row in probability]
