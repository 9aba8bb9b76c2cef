"""A client's own classifier, registered by a configuration entry instead of an engine change.

A spec is a mapping::

    name: acme_nsfw               # outputs are "acme_nsfw.<label>"; [a-z][a-z0-9_]*
    kind: torchscript | onnx | hf
    path: /models/acme.pt         # a file (torchscript, onnx) or a local folder (hf)
    modality: image | prompt
    labels: [safe, nsfw]          # or {0: safe, 1: nsfw}; hf may omit it (config.id2label)
    input_size: 224               # image side (or [height, width]); default 224
    normalize: {mean: [...], std: [...]}   # default ImageNet's
    activation: softmax | sigmoid # default softmax

Image models receive a float32 (n, 3, H, W) batch: the image resized (bicubic) to
input_size, scaled to 0..1, normalised. A folder's own preprocessor config is not read.
TorchScript prompt models receive a list of strings; ONNX models are image-only;
hf prompt models get the folder's tokenizer. Each model must return logits (n, labels).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moderation.engine.models.base import ModelPin
from moderation.engine.models.device import Placement
from moderation.engine.models.hashing import force_offline, sha256_path

KINDS = ("torchscript", "onnx", "hf")
IMAGENET = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LABEL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_/-]*$")
_KEYS = {"name", "kind", "path", "modality", "labels", "input_size", "normalize", "activation"}


class CustomModelError(ValueError):
    """A custom model spec is wrong; the message names the model and the field to fix."""


@dataclass(frozen=True)
class CustomSpec:
    """A validated custom classifier entry."""

    name: str
    kind: str
    path: Path
    modality: str
    labels: tuple[str, ...] | None
    input_size: tuple[int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    activation: str

    @classmethod
    def parse(cls, raw: Mapping) -> CustomSpec:
        """Return a spec from a config mapping, or raise CustomModelError saying what to fix."""
        if not isinstance(raw, Mapping):
            raise CustomModelError(f"a custom model entry must be a mapping, not {raw!r}")
        name = str(raw.get("name", ""))
        where = f"custom model {name!r}" if name else "a custom model entry"
        unknown = set(raw) - _KEYS
        if unknown:
            raise CustomModelError(
                f"{where}: unknown fields {sorted(unknown)}; allowed: {sorted(_KEYS)}"
            )
        if not _NAME.match(name):
            raise CustomModelError(
                f"{where}: name must match [a-z][a-z0-9_]* (it prefixes outputs)"
            )
        mean, std = _normalize(raw.get("normalize") or IMAGENET, where)
        return cls(
            name=name,
            kind=_choice(raw, "kind", KINDS, None, where),
            path=_existing_path(raw, where),
            modality=_choice(raw, "modality", ("image", "prompt"), None, where),
            labels=_labels(raw.get("labels"), where),
            input_size=_size(raw.get("input_size", 224), where),
            mean=mean,
            std=std,
            activation=_choice(raw, "activation", ("softmax", "sigmoid"), "softmax", where),
        )

    def pin(self) -> ModelPin:
        """Return the pin by hashing the model file or folder, without loading it."""
        version = f"custom {self.kind} {self.path.name} ({self.modality}, {self.activation})"
        return ModelPin(name=self.name, version=version, sha256=sha256_path(self.path))


class CustomScorer:
    """Runs a custom classifier; outputs "<name>.<label>" with scores in [0, 1]."""

    def __init__(self, spec: CustomSpec | Mapping, *, device: str = "cpu") -> None:
        force_offline()
        self.spec = spec if isinstance(spec, CustomSpec) else CustomSpec.parse(spec)
        self.modality = self.spec.modality
        self.device = device
        self.pin = self.spec.pin()
        self._run, labels = _LOADERS[self.spec.kind](self.spec, device)
        if not labels:
            raise CustomModelError(f"custom model {self.spec.name!r}: set labels (none found)")
        self.labels = tuple(labels)
        self.outputs = tuple(f"{self.spec.name}.{label}" for label in self.labels)

    def score(self, inputs: Sequence) -> list[dict[str, float]]:
        """Return one {output: probability} per input, in input order."""
        if not inputs:
            return []
        batch = self._pixels(inputs) if self.modality == "image" else list(inputs)
        logits = np.asarray(self._run(batch), dtype=np.float64)
        if logits.ndim != 2 or logits.shape != (len(inputs), len(self.labels)):
            raise CustomModelError(
                f"custom model {self.spec.name!r} returned shape {logits.shape}; expected "
                f"({len(inputs)}, {len(self.labels)}) for labels {list(self.labels)}"
            )
        probabilities = _activate(logits, self.spec.activation)
        return [dict(zip(self.outputs, map(float, row), strict=True)) for row in probabilities]

    def _pixels(self, images: Sequence) -> np.ndarray:
        from PIL import Image

        height, width = self.spec.input_size
        mean = np.asarray(self.spec.mean, dtype=np.float32)[:, None, None]
        std = np.asarray(self.spec.std, dtype=np.float32)[:, None, None]
        arrays = [
            np.asarray(
                image.convert("RGB").resize((width, height), Image.Resampling.BICUBIC),
                dtype=np.float32,
            ).transpose(2, 0, 1)
            / 255.0
            for image in images
        ]
        return np.ascontiguousarray((np.stack(arrays) - mean) / std, dtype=np.float32)


def _activate(logits: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _load_torchscript(spec: CustomSpec, device: str):
    import torch

    module = torch.jit.load(str(spec.path), map_location=device).eval()

    def run(batch):
        with torch.inference_mode():
            if spec.modality == "image":
                batch = Placement(device).to_device(torch.from_numpy(batch))
            return module(batch).float().cpu().numpy()

    return run, spec.labels


def _load_onnx(spec: CustomSpec, device: str):
    import onnxruntime

    if spec.modality != "image":
        raise CustomModelError(
            f"custom model {spec.name!r}: ONNX models are supported for images only; "
            "export a prompt classifier as TorchScript or a Hugging Face folder"
        )
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if device == "cuda" else None
    session = onnxruntime.InferenceSession(str(spec.path), providers=providers)
    input_name = session.get_inputs()[0].name
    return (lambda batch: session.run(None, {input_name: batch})[0]), spec.labels


def _load_hf(spec: CustomSpec, device: str):
    import torch
    import transformers

    if not spec.path.is_dir():
        raise CustomModelError(
            f"custom model {spec.name!r}: kind hf needs a folder, not {spec.path}"
        )
    auto = (
        "AutoModelForImageClassification"
        if spec.modality == "image"
        else "AutoModelForSequenceClassification"
    )
    model = getattr(transformers, auto).from_pretrained(str(spec.path), local_files_only=True)
    model = model.to(device).eval()
    tokenizer = None
    if spec.modality == "prompt":
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            str(spec.path), local_files_only=True
        )
    labels = spec.labels or tuple(model.config.id2label[i] for i in range(model.config.num_labels))

    def run(batch):
        with torch.inference_mode():
            if tokenizer is None:
                return (
                    model(pixel_values=Placement(device).to_device(torch.from_numpy(batch)))
                    .logits.float()
                    .cpu()
                    .numpy()
                )
            encoded = tokenizer(batch, padding=True, truncation=True, return_tensors="pt").to(
                device
            )
            return model(**encoded).logits.float().cpu().numpy()

    return run, labels


_LOADERS = {"torchscript": _load_torchscript, "onnx": _load_onnx, "hf": _load_hf}


def _choice(raw: Mapping, key: str, allowed: tuple[str, ...], default, where: str) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise CustomModelError(f"{where}: {key} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _existing_path(raw: Mapping, where: str) -> Path:
    if not raw.get("path"):
        raise CustomModelError(f"{where}: path is required (a model file or a local folder)")
    path = Path(str(raw["path"])).expanduser()
    if not path.exists():
        raise CustomModelError(f"{where}: path {path} does not exist on this machine")
    return path


def _labels(value, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        try:
            ordered = sorted((int(index), str(label)) for index, label in value.items())
        except (TypeError, ValueError) as exc:
            raise CustomModelError(
                f"{where}: a label map is {{index: label}}, e.g. {{0: safe}}"
            ) from exc
        if [index for index, _ in ordered] != list(range(len(ordered))):
            raise CustomModelError(
                f"{where}: label indices must be 0..{len(ordered) - 1}, each once"
            )
        value = [label for _, label in ordered]
    labels = tuple(str(label) for label in value)
    if not labels or len(set(labels)) != len(labels) or not all(map(_LABEL.match, labels)):
        raise CustomModelError(
            f"{where}: labels must be distinct words (letters, digits, _ - /), got {list(labels)}"
        )
    return labels


def _normalize(value, where: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    try:
        mean = tuple(float(v) for v in value["mean"])
        std = tuple(float(v) for v in value["std"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CustomModelError(
            f"{where}: normalize is {{mean: [r, g, b], std: [r, g, b]}}"
        ) from exc
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise CustomModelError(f"{where}: normalize needs 3 means and 3 positive stds")
    return mean, std


def _size(value, where: str) -> tuple[int, int]:
    sizes = [value, value] if isinstance(value, int) else list(value)
    if len(sizes) != 2 or not all(isinstance(s, int) and 1 <= s <= 4096 for s in sizes):
        raise CustomModelError(f"{where}: input_size is an int or [height, width] within 1..4096")
    return sizes[0], sizes[1]
