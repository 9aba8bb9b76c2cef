"""Request bodies of the moderation service, checked (docs/fleet-agent.md).

Bodies of /v1/check and /v1/check/batch. Errors are BadRequest with the HTTP status
and a message naming the field, and in a batch the item index (`items[3]: …`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from moderation.engine.images import ImageError, load_image
from moderation.engine.inputs import Item
from moderation.fleet.keys import decode_b64

CHECK_FIELDS = ("prompt", "image_base64", "all_scores", "deadline_ms")
ITEM_FIELDS = ("prompt", "image_base64")
BATCH_FIELDS = ("items", "all_scores", "deadline_ms")


class BadRequest(Exception):
    """A request the service refuses; carries the HTTP status and a message for people."""

    def __init__(self, status: int, message: str, reason: str = "bad_request") -> None:
        super().__init__(message)
        self.status, self.reason = status, reason


@dataclass
class Parsed:
    items: list[Item]
    all_scores: bool
    deadline_ms: float | None


def parse_deadline(raw: Any, where: str, maximum: float) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(raw, bool) or not (0 < value <= maximum):
        raise BadRequest(400, f"{where} must be a number of milliseconds in (0, {maximum:g}]")
    return value


def earliest(*deadlines: float | None) -> float | None:
    given = [d for d in deadlines if d is not None]
    return min(given) if given else None


def _json_object(raw: bytes, example: str) -> dict:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(400, f"the body is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadRequest(400, f"send a JSON object: {example}")
    return data


def _options(data: dict, most: float) -> tuple[bool, float | None]:
    all_scores = data.get("all_scores", False)
    if not isinstance(all_scores, bool):
        raise BadRequest(400, "all_scores must be true or false")
    deadline = data.get("deadline_ms")
    if deadline is not None:
        deadline = parse_deadline(deadline, "deadline_ms", most)
    return all_scores, deadline


def parse_check(raw: bytes, most: float) -> Parsed:
    data = _json_object(raw, '{"prompt": ..., "image_base64": ...}')
    unknown = sorted(set(data) - set(CHECK_FIELDS))
    if unknown:
        raise BadRequest(400, f"unknown field {unknown[0]!r}; use {', '.join(CHECK_FIELDS)}")
    all_scores, deadline = _options(data, most)
    return Parsed([_item(data, "")], all_scores, deadline)


def parse_batch(raw: bytes, max_items: int, most: float) -> Parsed:
    data = _json_object(raw, '{"items": [{"prompt": ..., "image_base64": ...}, ...]}')
    unknown = sorted(set(data) - set(BATCH_FIELDS))
    if unknown:
        raise BadRequest(400, f"unknown field {unknown[0]!r}; use {', '.join(BATCH_FIELDS)}")
    items = data.get("items")
    if not isinstance(items, list):
        raise BadRequest(400, 'items must be a list of {"prompt", "image_base64"} objects')
    if not 1 <= len(items) <= max_items:
        raise BadRequest(
            400, f"items has {len(items)} entries; send 1 to {max_items} (split larger batches)"
        )
    all_scores, deadline = _options(data, most)
    parsed = []
    for i, entry in enumerate(items):
        where = f"items[{i}]: "
        if not isinstance(entry, dict):
            raise BadRequest(400, f'{where}send an object {{"prompt": ..., "image_base64": ...}}')
        unknown = sorted(set(entry) - set(ITEM_FIELDS))
        if unknown:
            raise BadRequest(
                400, f"{where}unknown field {unknown[0]!r}; use {', '.join(ITEM_FIELDS)}"
            )
        parsed.append(_item(entry, where))
    return Parsed(parsed, all_scores, deadline)


def _item(data: dict, where: str) -> Item:
    prompt, encoded = data.get("prompt"), data.get("image_base64")
    if prompt is not None and not isinstance(prompt, str):
        raise BadRequest(400, f"{where}prompt must be a string")
    if prompt is None and encoded is None:
        raise BadRequest(400, f"{where}nothing to check: give a prompt, an image_base64, or both")
    return Item(prompt, _image(encoded, where))


def _image(encoded: Any, where: str) -> Any:
    if encoded is None:
        return None
    if not isinstance(encoded, str):
        raise BadRequest(400, f"{where}image_base64 must be a base64 string")
    try:
        raw = decode_b64(encoded)
    except ValueError as exc:
        raise BadRequest(400, f"{where}image_base64: {exc}") from None
    try:
        return load_image(raw, name="image_base64")
    except ImageError as exc:
        raise BadRequest(400, f"{where}{exc}") from None


# Serving -------------------------------------------------------------------------------
