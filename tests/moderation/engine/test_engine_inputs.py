"""Prompt and image coercion at the engine's edge."""

import pytest
from PIL import Image

from moderation.engine.errors import InputError
from moderation.engine.inputs import MAX_PROMPT_CHARS, coerce_image, coerce_prompt


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"caf\xc3\xa9", "café"),
        (b"bad \xff byte", "bad \ufffd byte"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("", ""),
        (None, None),
    ],
)
def test_prompts_become_valid_text(raw, expected):
    assert coerce_prompt(raw) == expected


def test_oversized_prompt_is_refused():
    with pytest.raises(InputError, match="shorten it"):
        coerce_prompt("x" * (MAX_PROMPT_CHARS + 1))


def test_images_become_rgb():
    assert coerce_image(Image.new("L", (4, 4))).mode == "RGB"
    assert coerce_image(Image.new("RGBA", (4, 4))).mode == "RGB"


def test_empty_image_is_refused():
    with pytest.raises(InputError, match="0x4 pixels"):
        coerce_image(Image.new("RGB", (0, 4)))
