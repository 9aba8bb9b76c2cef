"""Deterministic fake models and bundle factories for the engine's tests (no real weights)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pytest
from PIL import Image

from moderation.engine.bundle import (
    Bundle,
    CategoryOutputs,
    CategoryThreshold,
    Concept,
    EmbeddingSet,
    KeywordSet,
    MatchOptions,
    PolicyInfo,
)
from moderation.engine.decision import Action
from moderation.engine.embedding_rules import embedding_set_vectors
from moderation.engine.models.base import ModelPin
from moderation.engine.providers import require_pins

TEXT_DIM = 16
IMAGE_DIM = 8


def make_pin(name: str, version: str = "1") -> ModelPin:
    digest = hashlib.sha256(f"{name}{version}".encode()).hexdigest()
    return ModelPin(name, f"{name} {version}", digest)


@functools.cache
def _word_vector(word: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dim)


def _unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=-1, keepdims=True)).astype(np.float32)


class FakeTextEncoder:
    """Bag of words: each word a fixed random direction; a text the unit sum of its words."""

    def __init__(self, name: str = "minilm", dim: int = TEXT_DIM, version: str = "1") -> None:
        self.pin = make_pin(name, version)
        self.dim = dim
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        start = np.full(self.dim, 1e-3)
        # Like the real encoder, only the first 256 tokens count.
        words = [t.lower().split()[:256] for t in texts]
        rows = [sum((_word_vector(w, self.dim) for w in ws), start) for ws in words]
        return _unit(np.array(rows).reshape(len(texts), self.dim))


class FakeImageEncoder:
    """An image's vector is its mean colour in the first three dimensions plus a small offset."""

    def __init__(self, name: str = "clip", dim: int = IMAGE_DIM, calibrated: bool = True) -> None:
        self.pin = make_pin(name)
        self.dim = dim
        self.calibrated = calibrated
        self.calls: list[int] = []

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        self.calls.append(len(images))
        rows = np.full((len(images), self.dim), 0.01)
        for i, image in enumerate(images):
            rows[i, :3] = np.asarray(image, dtype=np.float64).reshape(-1, 3).mean(axis=0) / 255
        return _unit(rows)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        return _unit(np.array([_word_vector(t, self.dim) for t in texts]))


class FakeScorer:
    """A category scorer whose scores come from a function of the input."""

    def __init__(self, name, modality, outputs, fn: Callable, calibrated: bool = True) -> None:
        self.pin = make_pin(name)
        self.modality = modality
        self.outputs = tuple(outputs)
        self.fn = fn
        self.calibrated = calibrated
        self.calls: list[int] = []

    def score(self, inputs: Sequence) -> list[dict[str, float]]:
        self.calls.append(len(inputs))
        return [self.fn(x) for x in inputs]


def text_scores(prompt: str) -> dict[str, float]:
    """'naked' scores nudity 0.9, 'beach' 0.6; anything else 0.05."""
    words = prompt.lower().split()
    nudity = 0.9 if "naked" in words else 0.6 if "beach" in words else 0.05
    return {"text.nudity": nudity, "text.violence": 0.05}


def image_scores(image: Image.Image) -> dict[str, float]:
    """The red share of the image is the exposed-breast score; NudeNet omits absent labels."""
    red = float(np.asarray(image, dtype=np.float64)[..., 0].mean() / 255)
    return {"nudenet.FEMALE_BREAST_EXPOSED": red}


class FakeModels:
    """A ModelProvider made of fakes, counting calls so tests can check batching."""

    def __init__(self, *, text=None, image=None, scorers=None) -> None:
        self.text = text or FakeTextEncoder()
        self.image = image or FakeImageEncoder()
        self._scorers = scorers if scorers is not None else [
            FakeScorer("text", "prompt", ["text.nudity", "text.violence"], text_scores),
            FakeScorer("nudenet", "image", ["nudenet.FEMALE_BREAST_EXPOSED",
                                            "nudenet.BUTTOCKS_EXPOSED"], image_scores),
        ]  # fmt: skip

    def text_encoder(self):
        return self.text

    def image_encoder(self):
        return self.image

    def scorers(self, modality):
        return [s for s in self._scorers if s.modality == modality]

    def pins(self) -> dict[str, ModelPin]:
        pins = {self.text.pin.name: self.text.pin, self.image.pin.name: self.image.pin}
        pins.update({s.pin.name: s.pin for s in self._scorers})
        return pins

    def check_pins(self, required: Mapping[str, ModelPin]) -> None:
        require_pins(required, self.pins())


@pytest.fixture
def models() -> FakeModels:
    return FakeModels()


def solid(rgb: tuple[int, int, int], size: int = 8) -> Image.Image:
    return Image.new("RGB", (size, size), rgb)


@pytest.fixture
def image_of():
    """Return a factory of solid-colour RGB images."""
    return solid


def build_bundle(models: FakeModels, **overrides) -> Bundle:
    """A small bundle using every rule kind, built against `models`' pins."""
    examples, counters = embedding_set_vectors(
        models.text, ["buy illegal guns online", "untraceable firearm for sale"], ["toy water gun"]
    )
    proto = _unit(np.array([1.0, 0, 0, 0, 0, 0, 0, 0]))
    parts = {
        "policy": PolicyInfo("acme", "default", "Default policy", 3, 7),
        "pins": models.pins(),
        "dims": {"minilm": TEXT_DIM, "clip": IMAGE_DIM},
        "category_outputs": {
            "nudity": CategoryOutputs(
                prompt=("text.nudity",),
                image=("nudenet.FEMALE_BREAST_EXPOSED", "nudenet.BUTTOCKS_EXPOSED"),
            )
        },
        "thresholds": (CategoryThreshold("cat-nudity", "nudity", "both", 0.5, 0.8, "policy"),),
        "keyword_sets": (
            KeywordSet(
                "kw-adult",
                "Adult words",
                Action.BLOCK,
                ("sex", "porn"),
                ("sussex",),
                MatchOptions(),
            ),
            KeywordSet(
                "kw-brands",
                "Competitors",
                Action.FLAG,
                ("acme rival",),
                (),
                MatchOptions(mode="substring"),
            ),
        ),  # fmt: skip
        "embedding_sets": (
            EmbeddingSet(
                "emb-guns",
                "Gun sales",
                Action.REVIEW,
                0.8,
                "minilm",
                ("buy illegal guns online", "untraceable firearm for sale"),
                examples,
                ("toy water gun",),
                counters,
            ),
        ),  # fmt: skip
        "concepts": (
            Concept("concept-red", "Red things", Action.REVIEW, "prototype", 0.9, "clip", proto),
        ),
    }
    parts.update(overrides)
    return Bundle.create(**parts)


@pytest.fixture
def bundle_factory():
    """Return build_bundle(models, **overrides)."""
    return build_bundle


@pytest.fixture
def bundle(models) -> Bundle:
    return build_bundle(models)
