"""Prompt categories by nearest example phrase: "text.<category>" scores from a sentence encoder.

Score = the highest cosine similarity c between the prompt and the category's example
phrases, rescaled to [0, 1] by (c - UNRELATED) / (SAME - UNRELATED) and clipped.
all-MiniLM-L6-v2 gives unrelated short sentences cosines up to about 0.3 (a lighthouse
and a hate-speech example score ~0.3), paraphrases 0.6-0.8: without the rescale every
prompt would score ~0.1-0.3 on every category and a low threshold (a strict floor) would
fire on everything. With it, unrelated prompts score 0 and thresholds read as "how close
to an example", 1.0 meaning paraphrase-close.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np

from moderation.engine.models.base import ModelPin, TextEncoder
from moderation.engine.models.hashing import sha256_parts

PIN_NAME = "text"
UNRELATED = 0.3
SAME = 0.8


def examples_sha256(examples: Mapping[str, Sequence[str]]) -> str:
    """Return a sha256 of the example phrases that ignores dict order, not phrase order."""
    canonical = json.dumps(
        {key: list(examples[key]) for key in sorted(examples)}, ensure_ascii=False
    )
    return sha256_parts([("examples", canonical)])


def text_category_pin(encoder_pin: ModelPin, examples: Mapping[str, Sequence[str]]) -> ModelPin:
    """Return the pin that changes when the encoder's weights or any example phrase change."""
    phrases = examples_sha256(examples)
    count = sum(len(v) for v in examples.values())
    version = (
        f"max cosine to {count} phrases in {len(examples)} categories, "
        f"[{UNRELATED}, {SAME}] rescaled to [0, 1] (phrases sha256 {phrases[:12]}; "
        f"encoder {encoder_pin.name} sha256 {encoder_pin.sha256[:12]})"
    )
    sha = sha256_parts(
        [("encoder", encoder_pin.sha256), ("examples", phrases), ("scale", f"{UNRELATED},{SAME}")]
    )
    return ModelPin(name=PIN_NAME, version=version, sha256=sha)


def validate_examples(examples: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Return the examples as lists, or raise ValueError naming the first bad category."""
    checked: dict[str, list[str]] = {}
    for category, phrases in examples.items():
        if not isinstance(category, str) or not category.strip():
            raise ValueError(f"category ids must be non-empty strings, not {category!r}")
        if isinstance(phrases, str) or not phrases:
            raise ValueError(f"category {category!r} needs a non-empty list of example phrases")
        bad = [p for p in phrases if not isinstance(p, str) or not p.strip()]
        if bad:
            raise ValueError(
                f"category {category!r} has empty or non-text example phrases: {bad!r}"
            )
        checked[category] = list(phrases)
    return checked


class TextCategoryScorer:
    """Scores prompts with one "text.<category>" output per category, each in [0, 1]."""

    modality = "prompt"

    def __init__(self, encoder: TextEncoder, examples: Mapping[str, Sequence[str]]) -> None:
        checked = validate_examples(examples)
        if not checked:
            raise ValueError("TextCategoryScorer needs at least one category with example phrases")
        self.categories = tuple(sorted(checked))
        self.outputs = tuple(f"{PIN_NAME}.{c}" for c in self.categories)
        self.pin = text_category_pin(encoder.pin, checked)
        self._encoder = encoder
        phrases = [p for c in self.categories for p in checked[c]]
        self._vectors = encoder.encode(phrases)
        sizes = [len(checked[c]) for c in self.categories]
        self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)

    def score(self, inputs: Sequence[str]) -> list[dict[str, float]]:
        """Return one {"text.<category>": score} per prompt, in input order."""
        if not inputs:
            return []
        similarity = self._encoder.encode(list(inputs)) @ self._vectors.T
        # Example columns are grouped by category, so reduceat takes each group's maximum.
        best = np.maximum.reduceat(similarity, self._starts, axis=1)
        best = np.clip((best - UNRELATED) / (SAME - UNRELATED), 0.0, 1.0)
        return [dict(zip(self.outputs, map(float, row), strict=True)) for row in best]
