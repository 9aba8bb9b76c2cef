"""What the engine accepts as a prompt or an image, and the refusals of anything else."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from moderation.engine.errors import InputError
from moderation.engine.homoglyphs import invisible_chars

MAX_PROMPT_CHARS = 8 * 1024 * 1024
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Item:
    """One input to judge: a prompt, an image, or both."""

    prompt: str | None = None
    image: Image.Image | None = None


def coerce_prompt(prompt: Any) -> str | None:
    """Return `prompt` as valid text: bytes decode as UTF-8, invalid sequences become U+FFFD."""
    if prompt is None:
        return None
    if isinstance(prompt, bytes | bytearray | memoryview):
        prompt = bytes(prompt).decode("utf-8", errors="replace")
    elif not isinstance(prompt, str):
        raise InputError(f"a prompt must be text or UTF-8 bytes, got {type(prompt).__name__}")
    else:
        try:
            prompt.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates cannot reach a tokenizer or a database; they
            # become U+FFFD like invalid bytes do.
            prompt = _SURROGATE_RE.sub("\ufffd", prompt)
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(
            f"the prompt has {len(prompt)} characters, more than the {MAX_PROMPT_CHARS} "
            "the engine accepts; shorten it"
        )
    return prompt


def has_content(prompt: str) -> bool:
    """Return whether `prompt` holds anything besides whitespace and invisible characters."""
    if not prompt.strip():
        return False
    return bool(prompt.translate(_invisible_table()).strip())


@functools.cache
def _invisible_table() -> dict[int, None]:
    return dict.fromkeys(map(ord, invisible_chars()))


def coerce_image(image: Any) -> Image.Image | None:
    """Return `image` as an RGB PIL image, converting other modes."""
    if image is None:
        return None
    if not isinstance(image, Image.Image):
        raise InputError(
            f"an image must be a decoded PIL image, got {type(image).__name__}; "
            "decode uploads with moderation.engine.images first"
        )
    if image.width == 0 or image.height == 0:
        raise InputError(f"the image is {image.width}x{image.height} pixels; it has no content")
    return image if image.mode == "RGB" else image.convert("RGB")


def coerce_item(item: Any, index: int | None = None) -> Item:
    """Return a validated Item from an Item, a (prompt, image) pair or a mapping."""
    where = "" if index is None else f"item {index}: "
    if isinstance(item, Item):
        prompt, image = item.prompt, item.image
    elif isinstance(item, Mapping):
        unknown = set(item) - {"prompt", "image"}
        if unknown:
            raise InputError(f"{where}unknown key {sorted(unknown)[0]!r}; use prompt and image")
        prompt, image = item.get("prompt"), item.get("image")
    elif isinstance(item, tuple) and len(item) == 2:
        prompt, image = item
    else:
        raise InputError(f"{where}expected an Item, a (prompt, image) pair or a mapping")
    try:
        result = Item(coerce_prompt(prompt), coerce_image(image))
    except InputError as exc:
        raise InputError(f"{where}{exc}") from None
    if result.prompt is None and result.image is None:
        raise InputError(f"{where}nothing to evaluate: give a prompt, an image or both")
    return result
