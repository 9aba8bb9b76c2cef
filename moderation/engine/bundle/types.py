"""The in-memory bundle: a typed, versioned, self-contained compiled policy."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from moderation.engine.decision import Action
from moderation.engine.match_options import MatchOptions
from moderation.engine.models.base import ModelPin

SPEC_VERSION = "1"
AppliesTo = Literal["prompt", "image", "both"]
# What text a keyword or embedding set reads: the prompt, the text OCR reads in the image,
# or both. A set at "prompt" leaves the field out of the bytes (older bundles keep their sha256).
TextTarget = Literal["prompt", "image_text", "both"]
TEXT_TARGETS: tuple[str, ...] = ("prompt", "image_text", "both")
OCR_PIN = "ocr"


def reads(applies_to: str, source: str) -> bool:
    """Whether a set with `applies_to` reads `source` ("prompt" or "image_text")."""
    return applies_to in (source, "both")


@dataclass(frozen=True)
class PolicyInfo:
    """Which policy (and which version of it, None for a draft) a bundle was built from."""

    tenant: str
    slug: str
    name: str
    version: int | None
    revision: int


@dataclass(frozen=True)
class CategoryOutputs:
    """The model outputs whose maximum is a category's score, per modality."""

    prompt: tuple[str, ...] = ()
    image: tuple[str, ...] = ()

    def for_modality(self, modality: str) -> tuple[str, ...]:
        """Return the outputs feeding this category for `modality`."""
        return self.prompt if modality == "prompt" else self.image


@dataclass(frozen=True)
class CategoryThreshold:
    """Review and block thresholds on one category's score (either may be None)."""

    id: str
    category: str
    applies_to: AppliesTo
    review_at: float | None
    block_at: float | None
    source: Literal["policy", "floor"] = "policy"

    def modalities(self) -> tuple[str, ...]:
        """Return the modalities this threshold judges."""
        return ("prompt", "image") if self.applies_to == "both" else (self.applies_to,)


@dataclass(frozen=True)
class KeywordSet:
    """Terms that fire `action` when found, except inside an allow-listed phrase."""

    id: str
    name: str
    action: Action
    terms: tuple[str, ...]
    allow: tuple[str, ...] = ()
    options: MatchOptions = field(default_factory=MatchOptions)
    applies_to: TextTarget = "prompt"


@dataclass(frozen=True, eq=False)
class EmbeddingSet:
    """Example phrases (and counter-examples) with their unit vectors from `encoder`."""

    id: str
    name: str
    action: Action
    threshold: float
    encoder: str  # pin name of the text encoder that made the vectors
    examples: tuple[str, ...]
    example_vectors: np.ndarray  # (n, d) float32, unit rows
    counter_examples: tuple[str, ...] = ()
    counter_vectors: np.ndarray | None = None  # (m, d) float32, unit rows
    applies_to: TextTarget = "prompt"


@dataclass(frozen=True, eq=False)
class Concept:
    """A few-shot image concept: a prototype direction or a linear probe over `encoder`."""

    id: str
    name: str
    action: Action
    method: Literal["prototype", "linear_probe"]
    threshold: float
    encoder: str  # pin name of the image encoder that made the vector
    vector: np.ndarray  # (d,) float32: unit prototype, or probe weights
    bias: float = 0.0  # probe intercept; 0 for a prototype


@dataclass(frozen=True)
class Sampling:
    """Which served decisions the fleet keeps as records; counts cover every decision anyway.

    Every `review` up to `review_per_minute` per minute and server, a random
    `audit_share` of all decisions (drawn independently of the action, so that it
    estimates precision and recall without bias), and every `block` when `keep_blocks`.
    """

    enabled: bool = True
    review_per_minute: int = 60
    audit_share: float = 0.01
    keep_blocks: bool = False
    thumbnail_px: int = 256  # longest side of the JPEG kept of an image; 0 keeps none


@dataclass(frozen=True, eq=False)
class Classifier:
    """A trained linear classifier over an encoder's vector and some model outputs.

    Features are the `encoder` vector (unit rows) followed by the `outputs`
    scores; the score is sigmoid(platt_a * z + platt_b) where
    z = ((x - mean) / scale) . weights + bias: a calibrated probability in [0, 1].
    """

    id: str
    name: str
    action: Action
    target: Literal["prompt", "image"]
    threshold: float
    version: int  # the classifier version these weights come from
    encoder: str  # pin name of the encoder whose vector is the first features
    outputs: tuple[str, ...]  # "<model>.<label>" scores appended to the vector
    weights: np.ndarray  # (dim + len(outputs),) float32
    bias: float
    mean: np.ndarray  # (dim + len(outputs),) float32: the scaler's centre
    scale: np.ndarray  # (dim + len(outputs),) float32: the scaler's spread, > 0
    platt_a: float = 1.0
    platt_b: float = 0.0


@dataclass(frozen=True)
class Condition:
    """A prompt signal: a keyword or embedding set firing, or a prompt category score."""

    kind: Literal["keyword_set", "embedding_set", "category"]
    rule: str | None = None  # the id of the keyword or embedding set (its own kinds)
    category: str | None = None  # kind "category": the catalogue category scored on the prompt
    at_least: float | None = None  # kind "category": fires when the score is at least this


@dataclass(frozen=True)
class ConditionThreshold:
    """The image thresholds of one category while a condition holds."""

    category: str
    review_at: float
    block_at: float


@dataclass(frozen=True)
class ConditionalRule:
    """When `when` holds for a request's prompt, `thresholds` judge that request's image.

    They replace the bundle's image threshold of their category for that request
    (the strictest value wins when several conditions set one category).
    """

    id: str
    name: str
    when: Condition
    thresholds: tuple[ConditionThreshold, ...]


@dataclass(frozen=True, eq=False)
class Bundle:
    """A compiled policy: everything an inference server needs besides the models.

    Equal content gives byte-identical `to_bytes()` and so the same `sha256`.
    """

    policy: PolicyInfo
    pins: Mapping[str, ModelPin]
    dims: Mapping[str, int]  # vector size per encoder pin that vectors depend on
    category_outputs: Mapping[str, CategoryOutputs]
    thresholds: tuple[CategoryThreshold, ...] = ()
    keyword_sets: tuple[KeywordSet, ...] = ()
    embedding_sets: tuple[EmbeddingSet, ...] = ()
    concepts: tuple[Concept, ...] = ()
    # None in bundles published before sampling existed: the fleet then keeps no records.
    sampling: Sampling | None = None
    classifiers: tuple[Classifier, ...] = ()
    spec: str = SPEC_VERSION
    # What a client does when the moderation service cannot answer (timeout, 429, 503):
    # "closed" refuses the content, "open" lets it through. Absent from the bytes at the
    # default, so bundles published before the field existed keep their sha256.
    failure_mode: str = "closed"
    # Cross-modal rules: absent from the bytes when empty, so older bundles keep their sha256.
    conditions: tuple[ConditionalRule, ...] = ()

    @classmethod
    def create(cls, **parts: Any) -> Bundle:
        """Build a bundle from Python values and validate it as strictly as `from_bytes`."""
        from moderation.engine.bundle.codec import bundle_from_dict, bundle_to_dict

        parts.setdefault("dims", {})
        parts.setdefault("category_outputs", {})
        return bundle_from_dict(bundle_to_dict(cls(**parts)))

    @classmethod
    def from_bytes(cls, data: bytes) -> Bundle:
        """Parse canonical bundle bytes; refuses malformed or non-canonical input with a path."""
        from moderation.engine.bundle.codec import bundle_from_bytes

        return bundle_from_bytes(data)

    def to_bytes(self) -> bytes:
        """Return the canonical bytes: sorted-key compact UTF-8 JSON, vectors in base64."""
        cached = self.__dict__.get("_bytes")
        if cached is None:
            from moderation.engine.bundle.codec import bundle_to_bytes

            cached = bundle_to_bytes(self)
            object.__setattr__(self, "_bytes", cached)
        return cached

    @functools.cached_property
    def sha256(self) -> str:
        """The hex sha256 of the canonical bytes."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bundle):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.sha256)
