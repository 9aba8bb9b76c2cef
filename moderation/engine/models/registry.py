"""The process-wide model registry: each model loaded once, lazily, thread-safely, on one device.

pins() hashes weight files and loads nothing, except for a random-initialised CLIP, whose
weights exist only once built (the tiny test configuration builds in milliseconds).
check_pins() compares a bundle's pins against those, so the fleet can refuse a bundle
before loading anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from moderation.engine.models.base import ModelPin, PinMismatch
from moderation.engine.models.clip import ClipEncoder, ClipSpec, clip_file_pin
from moderation.engine.models.clip_zero_shot import (
    ClipZeroShotScorer,
    category_prompts,
    zero_shot_pin,
)
from moderation.engine.models.config import RegistryConfig
from moderation.engine.models.custom import CustomModelError, CustomScorer, CustomSpec
from moderation.engine.models.device import Placement, describe_device
from moderation.engine.models.nudenet import NudeNetScorer, nudenet_pin
from moderation.engine.models.ocr import OcrReader, OcrUnavailable, ocr_pin
from moderation.engine.models.opennsfw import OpenNsfwScorer, opennsfw_pin
from moderation.engine.models.sentence import SentenceEncoder, minilm_pin
from moderation.engine.models.text_categories import TextCategoryScorer, text_category_pin

BUILTIN_NAMES = ("minilm", "clip", "nudenet", "opennsfw", "text", "clip_zero_shot", "ocr")
log = logging.getLogger(__name__)

__all__ = ["ModelRegistry", "RegistryConfig", "configure_registry", "get_registry"]


@dataclass
class _Slot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    value: object = None
    seconds: float | None = None


class ModelRegistry:
    """Hands out the configured models; each is built at most once per registry."""

    def __init__(self, config: RegistryConfig | None = None) -> None:
        self.config = config or RegistryConfig()
        self.placement = Placement.resolve(self.config.device, self.config.precision)
        if self.config.torch_threads is not None:
            _set_torch_threads(self.config.torch_threads)
        if self.config.blas_threads is not None:
            _set_blas_threads(self.config.blas_threads)
        self.device = self.placement.device
        self._specs = _custom_specs(self.config.custom_models)
        self._slots: dict[str, _Slot] = {}
        self._slots_lock = threading.Lock()
        self._pins: dict[str, ModelPin] | None = None
        self._pins_lock = threading.Lock()
        self._ocr_reported = False

    def text_encoder(self) -> SentenceEncoder:
        """Return the sentence encoder (MiniLM), loading it on first use."""
        return self._get("minilm", lambda: SentenceEncoder(placement=self.placement))

    def image_encoder(self) -> ClipEncoder:
        """Return the CLIP backbone, loading it on first use."""
        spec = ClipSpec(self.config.clip_model, self.config.clip_pretrained, self.config.clip_seed)
        return self._get("clip", lambda: ClipEncoder(spec, placement=self.placement))

    def ocr(self) -> OcrReader:
        """Return the OCR reader (image text), loading it on first use."""
        if not self.config.enable_ocr:
            raise OcrUnavailable("OCR is switched off here (MODERATION_OCR=0)")
        config = self.config
        return self._get(
            "ocr",
            lambda: OcrReader(
                min_confidence=config.ocr_min_confidence,
                max_side=config.ocr_max_side,
                device=self.device,
            ),
        )

    def ocr_problem(self) -> str | None:
        """Why this process cannot read image text (None when it can); logged once."""
        if not self.config.enable_ocr:
            return None
        try:
            ocr_pin()
        except OcrUnavailable as exc:
            if not self._ocr_reported:
                self._ocr_reported = True
                log.warning("%s; bundles with image_text rules will be refused", exc)
            return str(exc)
        return None

    def scorers(self, modality: str) -> list:
        """Return every enabled category scorer for "prompt" or "image", loading as needed."""
        if modality not in ("prompt", "image"):
            raise ValueError(f"modality must be 'prompt' or 'image', not {modality!r}")
        names = [name for name in self._scorer_names() if self._modality(name) == modality]
        return [self._scorer(name) for name in names]

    def pins(self) -> dict[str, ModelPin]:
        """Return the pin of every enabled model, keyed by pin name (hashing, not loading).

        Made once per registry: every evaluation checks the bundle's pins, and hashing
        again (resolving each weights file, reading package metadata) cost a served
        request about 3 ms. A model is loaded once per registry too, so the pins describe
        the weights this process serves with, whatever replaces the files later.
        """
        with self._pins_lock:
            if self._pins is None:
                self._pins = self._make_pins()
            return dict(self._pins)

    def _make_pins(self) -> dict[str, ModelPin]:
        pins = {"minilm": minilm_pin(), "clip": self._clip_pin()}
        if self.config.enable_nudenet:
            pins["nudenet"] = nudenet_pin()
        if self.config.enable_opennsfw:
            pins["opennsfw"] = opennsfw_pin()
        if self.config.text_category_examples:
            pins["text"] = text_category_pin(pins["minilm"], self.config.text_category_examples)
        if self._zero_shot_enabled():
            pins["clip_zero_shot"] = zero_shot_pin(pins["clip"], self._zero_shot_prompts())
        if self.config.enable_ocr and self.ocr_problem() is None:
            pins["ocr"] = ocr_pin()
        pins.update({spec.name: spec.pin() for spec in self._specs})
        return pins

    def check_pins(self, required: Mapping[str, ModelPin]) -> None:
        """Return if every required pin matches this process; else raise PinMismatch naming both."""
        available = self.pins()
        problems = [_mismatch(need, available.get(name)) for name, need in sorted(required.items())]
        problems = [p for p in problems if p]
        if problems:
            raise PinMismatch("; ".join(problems))

    def warm_up(self) -> dict[str, float]:
        """Load every enabled model now (worker start-up) and return load seconds per model."""
        self.text_encoder()
        self.image_encoder()
        self.scorers("prompt")
        self.scorers("image")
        if self.config.enable_ocr and self.ocr_problem() is None:
            self.ocr()
        return self.load_seconds()

    def load_seconds(self) -> dict[str, float]:
        """Return how long each model loaded so far took to build, in seconds."""
        with self._slots_lock:
            slots = dict(self._slots)
        return {name: slot.seconds for name, slot in slots.items() if slot.seconds is not None}

    def device_info(self) -> dict[str, object]:
        """Return the device, precision, library versions and the models loaded so far."""
        info = describe_device(self.device, self.placement.precision)
        info["loaded"] = sorted(self.load_seconds())
        info["clip_calibrated"] = bool(self.config.clip_pretrained)
        return info

    def _get(self, name: str, build: Callable[[], object]):
        with self._slots_lock:
            slot = self._slots.setdefault(name, _Slot())
        # One lock per model: loading CLIP does not block a thread that wants MiniLM.
        with slot.lock:
            if slot.value is None:
                started = time.perf_counter()
                slot.value = build()
                slot.seconds = time.perf_counter() - started
            return slot.value

    def _clip_pin(self) -> ModelPin:
        spec = ClipSpec(self.config.clip_model, self.config.clip_pretrained, self.config.clip_seed)
        return clip_file_pin(spec) or self.image_encoder().pin

    def _scorer_names(self) -> list[str]:
        names = ["text"] if self.config.text_category_examples else []
        names += ["nudenet"] if self.config.enable_nudenet else []
        names += ["opennsfw"] if self.config.enable_opennsfw else []
        names += ["clip_zero_shot"] if self._zero_shot_enabled() else []
        return names + [spec.name for spec in self._specs]

    def _modality(self, name: str) -> str:
        if name == "text":
            return "prompt"
        if name in BUILTIN_NAMES:
            return "image"
        return next(spec.modality for spec in self._specs if spec.name == name)

    def _scorer(self, name: str):
        builders = {
            "text": lambda: TextCategoryScorer(
                self.text_encoder(), self.config.text_category_examples
            ),
            "nudenet": lambda: NudeNetScorer(floor=self.config.nudenet_floor, device=self.device),
            "opennsfw": lambda: OpenNsfwScorer(device=self.device),
            "clip_zero_shot": lambda: ClipZeroShotScorer(
                self.image_encoder(), self._zero_shot_prompts()
            ),
        }
        spec = next((s for s in self._specs if s.name == name), None)
        build = builders.get(name) or (lambda: CustomScorer(spec, device=self.device))
        return self._get(f"scorer:{name}", build)

    def _zero_shot_enabled(self) -> bool:
        wanted = self.config.enable_clip_zero_shot
        if wanted is None:
            wanted = bool(self.config.clip_pretrained)
        return bool(wanted and self._zero_shot_prompts())

    def _zero_shot_prompts(self) -> dict[str, list[str]]:
        if self.config.clip_category_prompts:
            return {k: list(v) for k, v in self.config.clip_category_prompts.items()}
        return category_prompts(self.config.text_category_examples or {})


def _mismatch(need: ModelPin, have: ModelPin | None) -> str | None:
    if have is None:
        return (
            f"bundle needs {need.name} {need.version} sha256 {need.sha256[:12]}… but this "
            f"process has no model named {need.name!r} (enable it or add it to the configuration)"
        )
    if have.sha256 == need.sha256:
        return None
    return (
        f"bundle needs {need.name} {need.version} sha256 {need.sha256[:12]}… but this process "
        f"loaded {have.name} {have.version} sha256 {have.sha256[:12]}…"
    )


def _custom_specs(entries) -> list[CustomSpec]:
    specs = [CustomSpec.parse(entry) for entry in entries]
    names = [spec.name for spec in specs]
    for name in names:
        if name in BUILTIN_NAMES or names.count(name) > 1:
            raise CustomModelError(
                f"custom model name {name!r} is already taken "
                f"(built-in names: {', '.join(BUILTIN_NAMES)}); choose another name"
            )
    return specs


_registry: ModelRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> ModelRegistry:
    """Return the process-wide registry, built from the environment on first use."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = ModelRegistry(RegistryConfig.from_env())
        return _registry


def configure_registry(config: RegistryConfig) -> ModelRegistry:
    """Replace the process-wide registry (worker start-up with the catalogue's examples)."""
    global _registry
    with _registry_lock:
        _registry = ModelRegistry(config)
        return _registry


def _set_blas_threads(threads: int) -> None:
    """Limit numpy's BLAS (OpenBLAS) threads, process-wide. The engine's matrix products
    (scores against example vectors) are small; BLAS threads that spin after each one take
    the cores from torch's threads: with two of each on two cores, the text category model
    ran at 117 prompts/s in batches of 16 against 292/s with one BLAS thread."""
    from threadpoolctl import threadpool_limits

    if threads < 1:
        raise ValueError(f"MODERATION_BLAS_THREADS must be at least 1, not {threads}")
    threadpool_limits(limits=threads, user_api="blas")


def _set_torch_threads(threads: int) -> None:
    """Set torch's intra-op threads (process-wide). Fewer threads than cores keep a batch
    from waiting on a thread that another process holds off its core (docs/fleet-agent.md,
    Tuning)."""
    import torch

    if threads < 1:
        raise ValueError(f"MODERATION_TORCH_THREADS must be at least 1, not {threads}")
    torch.set_num_threads(threads)
