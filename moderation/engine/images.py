"""Decoding untrusted image uploads into RGB Pillow images, or a typed error for people.

What load_image does with each kind of input:

- The file is read up to ``max_bytes`` and refused beyond it (ImageTooLarge).
- The declared size is checked against ``max_pixels`` before any pixel is decoded, so a
  decompression bomb (a small file declaring 20000x20000 pixels) costs nothing.
- EXIF orientation is applied (a phone photo taken sideways comes out upright).
- Animated images (GIF, APNG, WebP) and multi-page files (TIFF): the first frame only.
- Transparency (RGBA, LA, PA, palette with a transparent colour) is composited on white.
- CMYK is converted with Pillow's conversion (no ICC colour management).
- 16-bit greyscale ("I;16*") is scaled by 1/257; 32-bit "I" likewise when its values fit
  16 bits, else stretched from its min..max; float "F" is taken as 0..1 when it fits
  there, else stretched from its min..max.
- Truncated or corrupt files and files that are not images are refused.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

ImageSource = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO

_TRANSPARENT_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


class ImageError(ValueError):
    """An upload that cannot be used as an image; the message says why, for a person."""


class NotAnImage(ImageError):
    """The bytes are not an image format this platform reads."""


class ImageTooLarge(ImageError):
    """The file or its declared pixel count is above the configured limit."""


class TruncatedImage(ImageError):
    """The file starts like an image but its pixel data is cut short or corrupt."""


class UnsupportedImage(ImageError):
    """The image decodes but its colour mode cannot be turned into RGB."""


def load_image(
    data: ImageSource,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
) -> Image.Image:
    """Return the upright first frame of an image as a fully decoded RGB image, or raise ImageError.

    ``name`` is used in messages; it defaults to the file's name, else "the image".
    Pillow's own global bomb limit still applies above ``max_pixels``.
    """
    raw, label = _read_bytes(data, max_bytes=max_bytes, name=name)
    image = _open(raw, label, max_pixels)
    _check_pixels(image, label, max_pixels)
    _decode(image, label)
    return to_rgb(_upright(image))


def to_rgb(image: Image.Image) -> Image.Image:
    """Return an RGB copy of a decoded image following this module's documented rules."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in _TRANSPARENT_MODES or (mode in {"P", "L", "RGB"} and "transparency" in image.info):
        return _on_white(image.convert("RGBA"))
    if mode.startswith("I;16") or mode in {"I", "F"}:
        return Image.fromarray(_to_uint8(np.asarray(image), mode)).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as exc:
        raise UnsupportedImage(
            f"the image's colour mode {mode} cannot be converted to RGB; "
            "save it as an ordinary RGB PNG or JPEG and upload it again"
        ) from exc


def _read_bytes(data: ImageSource, *, max_bytes: int, name: str | None) -> tuple[bytes, str]:
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        label = name or "the image"
    elif isinstance(data, str | os.PathLike):
        path = Path(data)
        label = name or path.name
        try:
            with path.open("rb") as fp:
                raw = fp.read(max_bytes + 1)
        except FileNotFoundError as exc:
            raise NotAnImage(f"{label} does not exist ({path})") from exc
        except IsADirectoryError as exc:
            raise NotAnImage(f"{label} is a folder, not an image file ({path})") from exc
    elif hasattr(data, "read"):
        raw = data.read(max_bytes + 1)
        label = name or Path(str(getattr(data, "name", "") or "the image")).name
    else:
        raise TypeError(f"load_image takes bytes, a path or a binary file, not {type(data)!r}")
    if len(raw) > max_bytes:
        raise ImageTooLarge(
            f"{label} is larger than {_megabytes(max_bytes)}, the limit for images; "
            "send a smaller file"
        )
    if not raw:
        raise NotAnImage(f"{label} is empty (0 bytes)")
    return raw, label


def _open(raw: bytes, label: str, max_pixels: int) -> Image.Image:
    try:
        return Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(
            f"{label} is {_bomb_size(exc)}; the limit is {_millions(max_pixels)} pixels"
        ) from exc
    except UnidentifiedImageError as exc:
        raise NotAnImage(
            f"{label} is not an image this platform can read "
            "(JPEG, PNG, GIF, WebP, BMP and TIFF are); check that the file is an image"
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise TruncatedImage(f"{label} has a damaged header and cannot be read ({exc})") from exc


def _check_pixels(image: Image.Image, label: str, max_pixels: int) -> None:
    width, height = image.size
    if width < 1 or height < 1:
        raise NotAnImage(f"{label} declares an empty size {width}x{height}")
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{label} is {width}x{height} pixels; the limit is {_millions(max_pixels)} pixels"
        )


def _decode(image: Image.Image, label: str) -> None:
    # Pillow's global switch would let truncated files decode as grey; refuse explicitly.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on in this process; "
            "load_image refuses to run with it because truncated uploads would pass"
        )
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise TruncatedImage(
            f"{label} is truncated or corrupt: its pixel data ends early or is damaged "
            f"({exc}); upload the complete file again"
        ) from exc


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, TypeError):
        # Broken EXIF must not cost the user the picture: keep it as stored.
        return image


def _on_white(rgba: Image.Image) -> Image.Image:
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _to_uint8(pixels: np.ndarray, mode: str) -> np.ndarray:
    values = pixels.astype(np.float64)
    if mode.startswith("I;16") or (mode == "I" and _within(values, 0, 65535)):
        scaled = values / 257.0 if values.max(initial=0) > 255 or mode != "I" else values
    elif mode == "F" and _within(values, 0.0, 1.0):
        scaled = values * 255.0
    else:
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / (high - low)) if high > low else values * 0.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _within(values: np.ndarray, low: float, high: float) -> bool:
    return bool(values.size) and float(values.min()) >= low and float(values.max()) <= high


def _bomb_size(exc: Exception) -> str:
    found = _BOMB_PIXELS.search(str(exc))
    return f"{_millions(int(found.group(1)))} pixels" if found else "too many pixels"


def _millions(pixels: int) -> str:
    return f"{pixels / 1_000_000:g} million"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"
