"""load_image: every kind of awkward upload becomes RGB or a typed, readable error."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from moderation.engine.images import ImageTooLarge, NotAnImage, TruncatedImage, load_image


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge size; nothing that big is ever allocated."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + _png_chunk(b"IEND", b"")
    )


def test_plain_rgb_png_round_trips_pixels():
    source = Image.new("RGB", (3, 2), (10, 200, 30))
    image = load_image(_encode(source, "PNG"))
    assert image.mode == "RGB"
    assert image.size == (3, 2)
    assert image.getpixel((2, 1)) == (10, 200, 30)


def test_one_by_one_image_works():
    image = load_image(_encode(Image.new("L", (1, 1), 77), "PNG"))
    assert image.size == (1, 1)
    assert image.getpixel((0, 0)) == (77, 77, 77)


@pytest.mark.parametrize(
    "data",
    [b"this is a text file, not a picture", b"%PDF-1.7\n1 0 obj", bytes(range(256)) * 4],
)
def test_non_image_bytes_are_refused(data):
    with pytest.raises(NotAnImage, match="not an image"):
        load_image(data, name="notes.txt")


def test_empty_file_is_refused():
    with pytest.raises(NotAnImage, match="empty"):
        load_image(b"", name="blank.png")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_are_refused(fmt):
    noisy = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = _encode(Image.fromarray(noisy), fmt)
    with pytest.raises(TruncatedImage, match="truncated"):
        load_image(data[: len(data) // 2], name=f"cut.{fmt.lower()}")


def test_declared_twenty_thousand_square_is_refused_without_decoding():
    with pytest.raises(ImageTooLarge) as caught:
        load_image(_png_declaring(20_000, 20_000), name="photo.png")
    message = str(caught.value)
    assert message.startswith("photo.png is 400 million pixels")
    assert "the limit is 40 million pixels" in message


def test_pixel_limit_is_the_callers_not_pillows():
    with pytest.raises(ImageTooLarge, match=r"photo.png is 100x100 pixels; the limit is 0.005 mil"):
        load_image(_encode(Image.new("RGB", (100, 100)), "PNG"), max_pixels=5_000, name="photo.png")


def test_byte_limit_is_enforced():
    data = _encode(Image.new("RGB", (32, 32)), "PNG")
    with pytest.raises(ImageTooLarge, match="larger than"):
        load_image(data, max_bytes=len(data) - 1)


def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    image = load_image(_encode(cmyk, "JPEG", quality=95))
    assert image.mode == "RGB"
    assert image.getpixel((4, 4)) == pytest.approx((255, 0, 0), abs=60)


def test_sixteen_bit_png_is_scaled_not_clipped():
    pixels = np.array([[0, 65535], [32896, 257 * 10]], dtype=np.uint16)
    data = _encode(Image.fromarray(pixels), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    image = load_image(data)
    assert [image.getpixel((x, y))[0] for y in range(2) for x in range(2)] == [0, 255, 128, 10]


def test_float_image_in_unit_range_is_scaled():
    pixels = np.array([[0.0, 0.5], [1.0, 0.25]], dtype=np.float32)
    data = _encode(Image.fromarray(pixels, mode="F"), "TIFF")
    image = load_image(data)
    assert [image.getpixel((x, y))[0] for y in range(2) for x in range(2)] == [0, 128, 255, 64]


def test_transparent_pixels_are_composited_on_white():
    rgba = Image.new("RGBA", (2, 1), (0, 0, 0, 0))
    rgba.putpixel((1, 0), (0, 0, 255, 255))
    image = load_image(_encode(rgba, "PNG"))
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((1, 0)) == (0, 0, 255)


def test_palette_transparency_is_composited_on_white():
    palette = Image.new("P", (2, 1), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.putpixel((1, 0), 1)
    image = load_image(_encode(palette, "PNG", transparency=0))
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((1, 0)) == (255, 0, 0)


def test_animated_gif_uses_first_frame():
    frames = [Image.new("RGB", (4, 4), colour) for colour in [(255, 0, 0), (0, 0, 255)]]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
    assert load_image(data).getpixel((1, 1)) == pytest.approx((255, 0, 0), abs=60)


def test_exif_orientation_is_applied():
    # Stored 40x20 with "rotate 90 CW to display" (orientation 6): shown as 20x40.
    stored = Image.new("RGB", (40, 20), (0, 255, 0))
    stored.paste((255, 0, 0), (0, 0, 10, 20))  # left edge red
    exif = Image.Exif()
    exif[0x0112] = 6
    image = load_image(_encode(stored, "JPEG", exif=exif.tobytes(), quality=95))
    assert image.size == (20, 40)
    top_red, _, _ = image.getpixel((10, 2))
    assert top_red > 200  # the stored left edge is now on top


def test_path_and_file_like_inputs_use_the_file_name(tmp_path):
    path = tmp_path / "holiday.png"
    path.write_bytes(_encode(Image.new("RGB", (5, 5)), "PNG"))
    assert load_image(path).size == (5, 5)
    with path.open("rb") as fp:
        assert load_image(fp).size == (5, 5)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not really a jpeg")
    with pytest.raises(NotAnImage, match=r"^broken.jpg is not an image"):
        load_image(broken)
    with pytest.raises(NotAnImage, match="does not exist"):
        load_image(tmp_path / "missing.png")
