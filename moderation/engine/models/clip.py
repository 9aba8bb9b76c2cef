"""The CLIP backbone through open_clip: an architecture plus local weights, or seeded random init.

``pretrained`` takes:

- ``None``: random weights from ``torch.manual_seed(seed)``, identical in every process with
  the same torch and open_clip versions. The pin's sha256 is the sha256 of the canonical
  state dict bytes (names, dtypes, shapes, values) and ``calibrated`` is False: such a
  model's similarities carry no meaning.
- a local checkpoint file (``.safetensors``, ``.pt``, ``.pth``, ``.bin``): the pin hashes it.
- ``local-dir:<folder>`` holding ``open_clip_config.json`` and a checkpoint: the
  architecture comes from the folder and the pin hashes the checkpoint open_clip picks.

Pretrained tags ("openai", "laion2b_...") are refused: they fetch from a hub.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moderation.engine.models.base import ModelPin
from moderation.engine.models.device import Placement, resolve_precision
from moderation.engine.models.hashing import (
    force_offline,
    package_version,
    sha256_file,
    sha256_state_dict,
)
from moderation.engine.models.sentence import normalise_rows

PIN_NAME = "clip"
TINY_CLIP = "mp-tiny"
_CONFIG_DIR = Path(__file__).with_name("configs")
_CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
_LOCAL_DIR = "local-dir:"
_register_lock = threading.Lock()
_registered = False


class ClipWeightsError(ValueError):
    """The configured CLIP architecture or weights cannot be used offline."""


@dataclass(frozen=True)
class ClipSpec:
    """Which CLIP to build: open_clip architecture, weights source, seed for random init."""

    model: str = TINY_CLIP
    pretrained: str | None = None
    seed: int = 0

    @property
    def random_init(self) -> bool:
        return not self.pretrained

    def checkpoint(self) -> Path | None:
        """Return the weights file to load and hash, or None for random init."""
        if self.random_init:
            return None
        if self.pretrained.startswith(_LOCAL_DIR):
            return _checkpoint_in_dir(Path(self.pretrained.removeprefix(_LOCAL_DIR)))
        path = Path(self.pretrained)
        if path.suffix in _CHECKPOINT_SUFFIXES and path.is_file():
            return path
        raise ClipWeightsError(_bad_pretrained_message(self.pretrained))

    def describe(self) -> str:
        """Return the human-readable version string recorded in the pin."""
        versions = f"open_clip_torch {package_version('open_clip_torch')}"
        if self.random_init:
            torch_version = package_version("torch")
            return f"{self.model} random-init seed {self.seed} ({versions}, torch {torch_version})"
        return f"{self.model} {Path(str(self.checkpoint())).name} ({versions})"


def register_tiny_config() -> None:
    """Make the "mp-tiny" test architecture known to open_clip (idempotent)."""
    global _registered
    import open_clip

    with _register_lock:
        if not _registered:
            open_clip.add_model_config(_CONFIG_DIR)
            _registered = True


def clip_file_pin(spec: ClipSpec) -> ModelPin | None:
    """Return the pin of file-backed weights by hashing them; None for random init."""
    checkpoint = spec.checkpoint()
    if checkpoint is None:
        return None
    return ModelPin(name=PIN_NAME, version=spec.describe(), sha256=sha256_file(checkpoint))


class ClipEncoder:
    """Encodes images and texts into one L2-normalised float32 space of shape (n, dim)."""

    def __init__(
        self,
        spec: ClipSpec | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        placement: Placement | None = None,
    ):
        force_offline()
        self.spec = spec or ClipSpec()
        # On CUDA: autocast to fp16 (or bf16) and pinned, non-blocking input copies.
        self.placement = placement or Placement(device, resolve_precision(device))
        self.device = device = self.placement.device
        self.batch_size = batch_size
        self.calibrated = not self.spec.random_init
        model, self._transform, self._tokenizer = _build(self.spec)
        self.pin = clip_file_pin(self.spec) or ModelPin(
            name=PIN_NAME,
            version=self.spec.describe(),
            sha256=sha256_state_dict(model.state_dict()),
        )
        self._model = model.to(device).eval()
        self.dim = int(self._embed_dim(model))

    def encode_images(self, images: Sequence) -> np.ndarray:
        """Return one unit row per RGB PIL image (preprocessing included), batched.

        Each batch's forward pass is queued before the next batch is preprocessed, and
        its result read after: on CUDA the GPU computes one batch while the CPU resizes
        the next. On CPU the pass runs at once, so the order changes nothing.
        """
        starts = range(0, len(images), self.batch_size)
        rows, queued = [], None
        for start in starts:
            pixels = self.preprocess(images[start : start + self.batch_size])
            launched = self._launch(self._model.encode_image, pixels)
            if queued is not None:
                rows.append(self._collect(queued))
            queued = launched
        if queued is not None:
            rows.append(self._collect(queued))
        return np.concatenate(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Return one unit row per text, tokenised with the model's own offline tokenizer."""
        if isinstance(texts, str):
            raise TypeError("encode_texts takes a list of texts, not one string; wrap it: [text]")
        rows = [
            self._forward(self._model.encode_text, self._tokenizer(list(texts[s : s + 256])))
            for s in range(0, len(texts), 256)
        ]
        return np.concatenate(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def preprocess(self, images: Sequence):
        """Return the (n, 3, H, W) float tensor the model takes for these PIL images.

        On CUDA it is in pinned memory, ready for a non-blocking copy.
        """
        import torch

        pixels = torch.stack([self._transform(_rgb(image)) for image in images])
        return pixels.pin_memory() if self.placement.pin_memory else pixels

    def encode_pixels(self, pixels) -> np.ndarray:
        """Return unit rows for an already preprocessed batch (the forward pass alone)."""
        return self._forward(self._model.encode_image, pixels)

    def _forward(self, encode, batch) -> np.ndarray:
        return self._collect(self._launch(encode, batch))

    def _launch(self, encode, batch):
        """Queue the forward pass of `batch` (on CUDA it returns before the GPU is done)."""
        import torch

        with torch.inference_mode(), self.placement.autocast():
            return encode(self.placement.to_device(batch))

    @staticmethod
    def _collect(features) -> np.ndarray:
        """Wait for queued features and return them as unit float32 rows."""
        return normalise_rows(features.float().cpu().numpy())

    @staticmethod
    def _embed_dim(model) -> int:
        projection = getattr(model, "text_projection", None)
        if projection is not None and hasattr(projection, "shape"):
            return projection.shape[-1]
        return model.visual.output_dim


def _build(spec: ClipSpec):
    import open_clip
    import torch

    register_tiny_config()
    name = (
        spec.pretrained
        if spec.pretrained and spec.pretrained.startswith(_LOCAL_DIR)
        else spec.model
    )
    if not name.startswith(_LOCAL_DIR) and name not in open_clip.list_models():
        raise ClipWeightsError(
            f"open_clip has no architecture named {name!r}; use one of open_clip.list_models() "
            f"(for example ViT-B-32) or {TINY_CLIP!r}, the tiny test configuration"
        )
    checkpoint = spec.checkpoint()
    # Seeding inside fork_rng keeps random init reproducible without touching the caller's RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        model, _, transform = open_clip.create_model_and_transforms(
            name, pretrained=None if name.startswith(_LOCAL_DIR) else _str(checkpoint)
        )
    return model, transform, open_clip.get_tokenizer(name)


def _checkpoint_in_dir(folder: Path) -> Path:
    from open_clip.factory import _find_checkpoint_in_dir

    if not (folder / "open_clip_config.json").is_file():
        raise ClipWeightsError(
            f"{folder} has no open_clip_config.json; a local-dir: folder needs the config "
            "and a checkpoint (open_clip_model.safetensors or open_clip_pytorch_model.bin)"
        )
    # Hash exactly the file open_clip will load, by asking it which one it picks.
    found = _find_checkpoint_in_dir(folder)
    if found is None:
        raise ClipWeightsError(f"{folder} holds no .safetensors, .bin or .pth checkpoint")
    return Path(found)


def _bad_pretrained_message(value: str) -> str:
    path = Path(value)
    if path.suffix in _CHECKPOINT_SUFFIXES:
        return f"CLIP checkpoint {value} does not exist or is not a file"
    return (
        f"MODERATION_CLIP_PRETRAINED={value!r} is neither a local checkpoint "
        f"({', '.join(_CHECKPOINT_SUFFIXES)}) nor local-dir:<folder>. Pretrained tags download "
        "from a hub, which this platform never does at run time: download the checkpoint on a "
        "connected machine, copy it here and point MODERATION_CLIP_PRETRAINED at the file"
    )


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _rgb(image):
    return image if image.mode == "RGB" else image.convert("RGB")
