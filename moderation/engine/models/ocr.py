"""Text in images: RapidOCR's PP-OCR detector and recogniser (ONNX, shipped in its wheel).

The pin hashes the three ONNX files rapidocr-onnxruntime ships (text detection,
direction classification, recognition), and the reader loads exactly those files,
never a path the package's configuration would resolve on its own.

Images whose longest side passes `max_side` are downscaled before OCR and the
boxes mapped back to the original pixels, so a 6000 px upload costs what a
`max_side` one does. A near-uniform image (nothing but one colour) holds no text
and skips the models altogether.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moderation.engine.models.base import ModelPin
from moderation.engine.models.hashing import package_version, sha256_file, sha256_parts

PIN_NAME = "ocr"
DISTRIBUTION = "rapidocr-onnxruntime"
DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_MAX_SIDE = 1024
# The wheel's models, by the role rapidocr gives them (its det/cls/rec model_path keys).
WEIGHTS = {
    "det": "ch_PP-OCRv4_det_infer.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "rec": "ch_PP-OCRv4_rec_infer.onnx",
}
# A thumbnail whose grey levels span less than this holds no legible text.
_UNIFORM_SPAN = 8
_THUMB_PX = 64


class OcrUnavailable(FileNotFoundError):
    """The OCR package or one of its ONNX files is not installed in this process."""


def ocr_weights() -> dict[str, Path]:
    """Return the packaged ONNX file of each role, or raise OcrUnavailable naming the fix."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise OcrUnavailable(
            f"the OCR model is missing: {DISTRIBUTION} is not installed (it ships the PP-OCR "
            "ONNX files); install it, or set MODERATION_OCR=0 to run without image text"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    paths = {role: folder / name for role, name in WEIGHTS.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise OcrUnavailable(
            f"the OCR model is missing: {missing[0]} does not exist; reinstall {DISTRIBUTION}"
        )
    return paths


def ocr_pin() -> ModelPin:
    """Return the OCR pin: one sha256 over the three ONNX files, hashed without loading."""
    paths = ocr_weights()
    version = f"PP-OCRv4 det+rec, mobile v2 cls ({DISTRIBUTION} {package_version(DISTRIBUTION)})"
    digest = sha256_parts((WEIGHTS[role], sha256_file(paths[role])) for role in sorted(paths))
    return ModelPin(name=PIN_NAME, version=version, sha256=digest)


@dataclass(frozen=True)
class TextBox:
    """One line of text the OCR read: its quadrilateral in original pixels, text, confidence."""

    points: tuple[tuple[float, float], ...]  # four corners, clockwise from top-left
    text: str
    confidence: float

    def rect(self) -> tuple[float, float, float, float]:
        """Return the bounding rectangle (left, top, right, bottom)."""
        xs, ys = [p[0] for p in self.points], [p[1] for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)

    def as_dict(self) -> dict[str, Any]:
        return {
            "points": [[round(x, 1), round(y, 1)] for x, y in self.points],
            "rect": [round(v, 1) for v in self.rect()],
            "text": self.text,
            "confidence": round(self.confidence, 4),
        }


@dataclass(frozen=True)
class ImageText:
    """Everything the OCR read in one image, top to bottom; `text` joins the lines with \\n."""

    boxes: tuple[TextBox, ...] = ()
    width: int = 0
    height: int = 0
    scale: float = 1.0  # the factor the image was shrunk by before OCR (1.0: not resized)

    @property
    def text(self) -> str:
        return "\n".join(box.text for box in self.boxes)

    def locate(self, start: int, end: int) -> tuple[int, int, int]:
        """Return (box index, start, end within that box's text) of a span of `text`."""
        offset = 0
        for index, box in enumerate(self.boxes):
            if start < offset + len(box.text):
                return index, start - offset, min(end, offset + len(box.text)) - offset
            offset += len(box.text) + 1
        raise ValueError(f"span {start}:{end} is outside the recognised text")

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "boxes": [box.as_dict() for box in self.boxes],
            "size": [self.width, self.height],
        }


class OcrReader:
    """Reads the text lines of RGB images; one RapidOCR engine, shared under a lock."""

    modality = "image"

    def __init__(
        self,
        *,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        max_side: int = DEFAULT_MAX_SIDE,
        threads: int | None = None,
        device: str = "cpu",
    ) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"OCR minimum confidence must be in [0, 1], not {min_confidence}")
        if max_side < 32:
            raise ValueError(f"OCR maximum image side must be at least 32 px, not {max_side}")
        self.min_confidence = min_confidence
        self.max_side = max_side
        self.pin = ocr_pin()
        self.device = "cuda" if device == "cuda" and _cuda_provider() else "cpu"
        self._engine = _rapidocr(min_confidence, max_side, threads, self.device == "cuda")
        # RapidOCR keeps per-call state on the engine; one call at a time is safe.
        self._lock = threading.Lock()

    def read(self, images: Sequence[Any]) -> list[ImageText]:
        """Return what each image says, in input order; an image without text gives no boxes."""
        return [self.read_one(image) for image in images]

    def read_one(self, image: Any) -> ImageText:
        """Return the text lines of one PIL image, boxes in its own pixel coordinates."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        width, height = rgb.size
        if is_uniform(rgb):
            return ImageText(width=width, height=height)
        small, scale = downscale(rgb, self.max_side)
        bgr = np.ascontiguousarray(np.asarray(small)[:, :, ::-1])
        with self._lock:
            found, _ = self._engine(bgr)
        return ImageText(
            boxes=tuple(self._boxes(found or [], scale)), width=width, height=height, scale=scale
        )

    def _boxes(self, found: list, scale: float) -> list[TextBox]:
        boxes = []
        for points, text, confidence in found:
            if float(confidence) < self.min_confidence or not str(text).strip():
                continue
            corners = tuple((float(x) / scale, float(y) / scale) for x, y in points)
            boxes.append(TextBox(points=corners, text=str(text), confidence=float(confidence)))
        return boxes


def downscale(image: Any, max_side: int) -> tuple[Any, float]:
    """Return `image` shrunk so its longest side is at most `max_side`, and the factor used."""
    longest = max(image.size)
    if longest <= max_side:
        return image, 1.0
    scale = max_side / longest
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size), scale


def is_uniform(image: Any) -> bool:
    """Whether a grey thumbnail of `image` is (almost) one level: no text can be read there."""
    thumb = image.convert("L")
    thumb.thumbnail((_THUMB_PX, _THUMB_PX))
    low, high = thumb.getextrema()
    return high - low < _UNIFORM_SPAN


def rapidocr_options(min_confidence: float, max_side: int) -> dict[str, Any]:
    """The RapidOCR settings the reader runs with: the pinned files, our limits."""
    options: dict[str, Any] = {
        f"{role}_model_path": str(path) for role, path in ocr_weights().items()
    }
    # text_score drops recognitions under the floor inside rapidocr too. The detector
    # sees the image at its own size up to max_side: rapidocr's default ("min" 736)
    # upscales every smaller image to 736 px first, which doubles the cost of a 512 px
    # image and reads no more rendered text.
    options.update(
        text_score=min_confidence,
        max_side_len=max(max_side, 2000),
        det_limit_type="max",
        det_limit_side_len=max_side,
    )
    return options


def _cuda_provider() -> bool:
    # Only an onnxruntime build with CUDA (onnxruntime-gpu) runs the OCR on a GPU; the
    # CPU build of the requirements runs it on the CPU even on a GPU worker.
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def _rapidocr(min_confidence: float, max_side: int, threads: int | None, cuda: bool):
    from rapidocr_onnxruntime import RapidOCR

    options = rapidocr_options(min_confidence, max_side)
    if threads:
        options["intra_op_num_threads"] = threads
    if cuda:
        options.update(det_use_cuda=True, cls_use_cuda=True, rec_use_cuda=True)
    return RapidOCR(**options)
