"""What evaluate() needs from the models: any object with these methods will do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from moderation.engine.models.base import (
    CategoryScorer,
    ImageEncoder,
    Modality,
    ModelPin,
    PinMismatch,
    TextEncoder,
)


@runtime_checkable
class ModelProvider(Protocol):
    """The loaded models of one process (the model registry, or a fake in tests)."""

    def text_encoder(self) -> TextEncoder: ...

    def image_encoder(self) -> ImageEncoder: ...

    def scorers(self, modality: Modality) -> list[CategoryScorer]: ...

    def pins(self) -> dict[str, ModelPin]: ...

    def check_pins(self, required: Mapping[str, ModelPin]) -> None: ...


def _describe(pin: ModelPin) -> str:
    return f"{pin.version!r} (sha256 {pin.sha256[:12]}…)"


def pin_mismatches(required: Mapping[str, ModelPin], loaded: Mapping[str, ModelPin]) -> list[str]:
    """Return one sentence per required pin that `loaded` does not satisfy exactly."""
    problems = []
    for name in sorted(required):
        want, have = required[name], loaded.get(name)
        if have is None:
            problems.append(f"the bundle needs model {name!r} {_describe(want)}, not loaded here")
        elif have != want:
            problems.append(
                f"the bundle needs model {name!r} {_describe(want)}, "
                f"this process has {_describe(have)}"
            )
    return problems


def require_pins(required: Mapping[str, ModelPin], loaded: Mapping[str, ModelPin]) -> None:
    """Raise PinMismatch naming both sides when `loaded` does not satisfy `required`."""
    problems = pin_mismatches(required, loaded)
    if problems:
        raise PinMismatch(
            "; ".join(problems) + ". Load the pinned weights, or rebuild the bundle "
            "with the models this process has."
        )
