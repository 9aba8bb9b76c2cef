"""Small images made on the fly, for uploads, samples and live tests."""

import io

from PIL import Image


def png_bytes(colour=(200, 30, 30), size=(8, 8)) -> bytes:
    """A PNG of one solid colour: distinct colours give distinct content hashes."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()
