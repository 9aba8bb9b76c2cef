"""Test images with rendered text, drawn with Pillow's own font (no system fonts needed)."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont


def text_image(
    lines: list[str], *, size: tuple[int, int] = (640, 360), font_px: int = 48
) -> Image.Image:
    """Return a white RGB image with each line in black, one under the other from (40, 50)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_px)
    for n, line in enumerate(lines):
        draw.text((40, 50 + n * int(font_px * 2.2)), line, fill="black", font=font)
    return image
