"""A fake OCR reader and a model provider with it, for tests of image-text rules (no weights)."""

from __future__ import annotations

from PIL import Image

from moderation.engine.models.ocr import ImageText, TextBox
from tests.moderation.engine.conftest import FakeModels, make_pin


def box(text: str, x: float, y: float, confidence: float = 0.97) -> TextBox:
    points = ((x, y), (x + 10 * len(text), y), (x + 10 * len(text), y + 20), (x, y + 20))
    return TextBox(points=points, text=text, confidence=confidence)


class FakeOcr:
    """Reads the lines written into `image.info["lines"]`; counts its calls."""

    def __init__(self) -> None:
        self.pin = make_pin("ocr")
        self.calls: list[int] = []

    def read(self, images):
        self.calls.append(len(images))
        out = []
        for image in images:
            lines = image.info.get("lines", [])
            boxes = tuple(box(text, 5, 30 * n) for n, text in enumerate(lines))
            out.append(ImageText(boxes=boxes, width=image.width, height=image.height))
        return out


class OcrModels(FakeModels):
    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.reader = FakeOcr()

    def ocr(self):
        return self.reader

    def pins(self):
        return {**super().pins(), "ocr": self.reader.pin}


def picture(*lines: str) -> Image.Image:
    image = Image.new("RGB", (200, 120), (250, 250, 250))
    image.info["lines"] = list(lines)
    return image
