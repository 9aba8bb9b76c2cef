"""NudeNet's ONNX body-part detector as a category scorer with calibrated per-label scores.

Calibration: NudeNet keeps boxes from a raw score of 0.2, and such low boxes fire on
skin-coloured blobs, so each label's score is its best box mapped by
``max(0, (raw - floor) / (1 - floor))`` with ``floor`` 0.4 by default: boxes under the
floor count as absent and the rest spread over 0..1 (a raw 0.7 becomes 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from moderation.engine.models.base import ModelPin
from moderation.engine.models.hashing import package_version, sha256_file

PIN_NAME = "nudenet"
DEFAULT_FLOOR = 0.4


def nudenet_labels() -> tuple[str, ...]:
    """Return every label the packaged detector can emit, in its own order."""
    from nudenet import nudenet as detector_module

    # The list is module-private in nudenet; reading it keeps us in step with the package.
    return tuple(getattr(detector_module, "__labels"))  # noqa: B009


def nudenet_weights() -> Path:
    """Return the packaged ONNX file the detector loads."""
    from nudenet import nudenet as detector_module

    return Path(detector_module.__file__).with_name("320n.onnx")


def nudenet_pin() -> ModelPin:
    """Return the NudeNet pin by hashing its ONNX file, without loading it."""
    version = f"NudeNet 320n detector (nudenet {package_version('nudenet')})"
    return ModelPin(name=PIN_NAME, version=version, sha256=sha256_file(nudenet_weights()))


def calibrate(raw: float, floor: float = DEFAULT_FLOOR) -> float:
    """Return a raw box score mapped to [0, 1] with everything under ``floor`` at 0."""
    return float(min(1.0, max(0.0, (raw - floor) / (1.0 - floor))))


class NudeNetScorer:
    """Scores RGB images with one "nudenet.<LABEL>" output per detector label, each in [0, 1]."""

    modality = "image"

    def __init__(
        self, *, floor: float = DEFAULT_FLOOR, batch_size: int = 8, device: str = "cpu"
    ) -> None:
        if not 0.0 <= floor < 1.0:
            raise ValueError(f"NudeNet floor must be in [0, 1), not {floor}")
        self.floor = floor
        self.batch_size = batch_size
        self.device = device
        self.pin = nudenet_pin()
        self.labels = nudenet_labels()
        self.outputs = tuple(f"{PIN_NAME}.{label}" for label in self.labels)
        self._detector = _detector(device)

    def score(self, inputs: Sequence) -> list[dict[str, float]]:
        """Return one {output: calibrated score} per image; labels without a box score 0."""
        if not inputs:
            return []
        # NudeNet reads arrays the way cv2.imread returns them: uint8 BGR.
        arrays = [np.ascontiguousarray(np.asarray(_rgb(image))[:, :, ::-1]) for image in inputs]
        detections = self._detector.detect_batch(arrays, batch_size=self.batch_size)
        return [self._scores(found) for found in detections]

    def raw_detections(self, image) -> list[dict]:
        """Return NudeNet's uncalibrated boxes for one image (for explanations and debugging)."""
        return self._detector.detect(np.ascontiguousarray(np.asarray(_rgb(image))[:, :, ::-1]))

    def _scores(self, detections: list[dict]) -> dict[str, float]:
        best = dict.fromkeys(self.labels, 0.0)
        for detection in detections:
            label = detection["class"]
            best[label] = max(best.get(label, 0.0), calibrate(detection["score"], self.floor))
        return {f"{PIN_NAME}.{label}": score for label, score in best.items()}


def _rgb(image):
    return image if image.mode == "RGB" else image.convert("RGB")


def _detector(device: str):
    """NudeNet's detector; on CUDA with its ONNX session on the CUDA provider.

    NudeDetector builds its session without naming providers, which runs on the CPU
    (and which a GPU build of onnxruntime refuses), so on CUDA the session is built here
    and the detector's other fields set as its own __init__ sets them. The graph is
    float32: the CUDA provider runs it in fp32.
    """
    from nudenet import NudeDetector

    if device != "cuda":
        return NudeDetector(model_path=str(nudenet_weights()))
    import onnxruntime

    detector = NudeDetector.__new__(NudeDetector)
    detector.onnx_session = onnxruntime.InferenceSession(
        str(nudenet_weights()), providers=["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    detector.input_width = detector.input_height = 320
    detector.input_name = detector.onnx_session.get_inputs()[0].name
    return detector
