"""Small images made on the fly, for uploads, samples and live tests."""

import io

from PIL import Image, ImageDraw, ImageFont


def png_bytes(colour=(200, 30, 30), size=(8, 8)) -> bytes:
    """A PNG of one solid colour: distinct colours give distinct content hashes."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def text_image(lines: list[str], *, size=(640, 360), font_px: int = 48) -> Image.Image:
    """A white RGB image with each line in black, one under the other from (40, 50).

    The font is Pillow's own (no system fonts needed); the OCR reads it reliably.
    """
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_px)
    for n, line in enumerate(lines):
        draw.text((40, 50 + n * int(font_px * 2.2)), line, fill="black", font=font)
    return image


def text_png_bytes(lines: list[str], **kwargs) -> bytes:
    """The PNG bytes of text_image(lines)."""
    buffer = io.BytesIO()
    text_image(lines, **kwargs).save(buffer, format="PNG")
    return buffer.getvalue()
