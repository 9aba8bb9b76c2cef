"""The shape of the agent's decision upload (docs/production.md), checked field by field.

`parse_decision_batch` returns plain values or raises BatchError naming the first
wrong field (`records[3].action`); moderation.services.ingest then checks them
against the database and stores them.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import re
from dataclasses import dataclass
from datetime import datetime

from moderation.engine.decision import Action
from moderation.models import DecisionRecord

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_RECORDS = 1000
MAX_COUNTS = 5000
MAX_PROMPT_CHARS = 100_000
MAX_THUMBNAIL_BYTES = 256 * 1024

ACTIONS = tuple(a.value for a in Action)
REASONS = tuple(DecisionRecord.Reason.values)
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RECORD_FIELDS = {
    "request_id",
    "decided_at",
    "channel",
    "version",
    "bundle_sha256",
    "action",
    "reasons",
    "inclusion_probability",
    "rules",
    "scores",
    "prompt",
    "thumbnail_base64",
    "image_sha256",
    "shadow",
}
_SHADOW_FIELDS = {"version", "bundle_sha256", "action", "rules"}
_RULE_FIELDS = {"rule_id", "kind", "action", "score", "threshold", "fired"}


class BatchError(ValueError):
    """The batch breaks the contract; `field` names where (`records[3].action`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class DecisionUpload:
    """A checked batch: plain values, ready to be matched against the database."""

    batch_id: str
    instance_id: str
    dropped: int
    records: list[dict]
    counts: list[dict]
    shadow_counts: list[dict] = dataclasses.field(default_factory=list)


def parse_decision_batch(data) -> DecisionUpload:
    """The batch, checked field by field; raise BatchError naming the first bad one."""
    if not isinstance(data, dict):
        raise BatchError("", 'send a JSON object {"batch_id", "instance_id", "records", ...}')
    batch_id = data.get("batch_id")
    if not isinstance(batch_id, str) or not _BATCH_ID.match(batch_id):
        raise BatchError("batch_id", "must be 1 to 64 letters, digits, '-' or '_'")
    instance_id = data.get("instance_id")
    if not isinstance(instance_id, str) or not 0 < len(instance_id) <= 200:
        raise BatchError("instance_id", "must be a string of 1 to 200 characters")
    dropped = data.get("dropped", 0)
    if not _is_int(dropped) or dropped < 0:
        raise BatchError("dropped", "must be a whole number, 0 or more")
    records = data.get("records", [])
    if not isinstance(records, list):
        raise BatchError("records", "must be a list")
    if len(records) > MAX_RECORDS:
        raise BatchError("records", f"at most {MAX_RECORDS} records per batch; split it")
    counts, shadow_counts = _counts(data, "counts"), _counts(data, "shadow_counts")
    return DecisionUpload(
        batch_id=batch_id,
        instance_id=instance_id,
        dropped=dropped,
        records=[_record(r, f"records[{i}]") for i, r in enumerate(records)],
        counts=[_count(c, f"counts[{i}]") for i, c in enumerate(counts)],
        shadow_counts=[
            _shadow_count(c, f"shadow_counts[{i}]") for i, c in enumerate(shadow_counts)
        ],
    )


def _counts(data: dict, name: str) -> list:
    rows = data.get(name, [])
    if not isinstance(rows, list):
        raise BatchError(name, "must be a list")
    if len(rows) > MAX_COUNTS:
        raise BatchError(name, f"at most {MAX_COUNTS} per batch; split it")
    return rows


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _time(value, where: str) -> datetime:
    if not isinstance(value, str):
        raise BatchError(where, "must be an ISO-8601 time such as 2026-12-03T16:41:07Z")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BatchError(where, f"“{value[:40]}” is not an ISO-8601 time") from None
    if when.tzinfo is None:
        raise BatchError(where, "give the time zone (a trailing Z for UTC)")
    return when


def _channel(value, where: str) -> str:
    if not isinstance(value, str) or not _CHANNEL.match(value):
        raise BatchError(where, "must be a channel name (lowercase letters, digits, '-')")
    return value


def _version(value, where: str) -> int:
    if not _is_int(value) or value < 1:
        raise BatchError(where, "must be a version number (1 or more)")
    return value


def _action(value, where: str) -> str:
    if value not in ACTIONS:
        raise BatchError(where, f"must be one of {', '.join(ACTIONS)}")
    return value


def _sha256(value, where: str, *, optional: bool = False) -> str:
    if optional and value in (None, ""):
        return ""
    if not isinstance(value, str) or not _SHA256.match(value):
        raise BatchError(where, "must be a sha256 in 64 lowercase hex digits")
    return value


def _record(data, where: str) -> dict:
    if not isinstance(data, dict):
        raise BatchError(where, "must be an object")
    unknown = sorted(set(data) - _RECORD_FIELDS)
    if unknown:
        raise BatchError(f"{where}.{unknown[0]}", "is not a field of a decision record")
    request_id = data.get("request_id")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 200:
        raise BatchError(f"{where}.request_id", "must be a string of 1 to 200 characters")
    reasons = data.get("reasons")
    if not isinstance(reasons, list) or not reasons or any(r not in REASONS for r in reasons):
        raise BatchError(f"{where}.reasons", f"must be a non-empty list of {', '.join(REASONS)}")
    probability = data.get("inclusion_probability")
    if probability is not None and (not _is_number(probability) or not 0 < probability <= 1):
        raise BatchError(f"{where}.inclusion_probability", "must be a number in (0, 1]")
    if "audit" in reasons and probability is None:
        raise BatchError(
            f"{where}.inclusion_probability",
            "is required for a record of the audit sample (the estimates weight by it)",
        )
    prompt = data.get("prompt")
    if prompt is not None and (not isinstance(prompt, str) or len(prompt) > MAX_PROMPT_CHARS):
        raise BatchError(f"{where}.prompt", f"must be text of at most {MAX_PROMPT_CHARS} chars")
    shadow = _shadow(data.get("shadow"), f"{where}.shadow")
    if "shadow_flip" in reasons and shadow is None:
        raise BatchError(
            f"{where}.shadow", "is required for a shadow flip: what the shadow decided"
        )
    return {
        "request_id": request_id,
        "decided_at": _time(data.get("decided_at"), f"{where}.decided_at"),
        "channel": _channel(data.get("channel"), f"{where}.channel"),
        "version": _version(data.get("version"), f"{where}.version"),
        "bundle_sha256": _sha256(data.get("bundle_sha256"), f"{where}.bundle_sha256"),
        "action": _action(data.get("action"), f"{where}.action"),
        "reasons": list(dict.fromkeys(reasons)),
        "inclusion_probability": probability,
        "rules": [_rule(r, f"{where}.rules[{i}]") for i, r in enumerate(_list(data, where))],
        "scores": _scores(data.get("scores", {}), f"{where}.scores"),
        "prompt": prompt or "",
        "thumbnail": _thumbnail(data.get("thumbnail_base64"), f"{where}.thumbnail_base64"),
        "image_sha256": _sha256(data.get("image_sha256"), f"{where}.image_sha256", optional=True),
        "shadow": shadow,
    }


def _shadow(data, where: str) -> dict | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise BatchError(where, "must be an object {version, bundle_sha256, action, rules}")
    unknown = sorted(set(data) - _SHADOW_FIELDS)
    if unknown:
        raise BatchError(f"{where}.{unknown[0]}", "is not a field of a shadow decision")
    return {
        "version": _version(data.get("version"), f"{where}.version"),
        "bundle_sha256": _sha256(data.get("bundle_sha256"), f"{where}.bundle_sha256"),
        "action": _action(data.get("action"), f"{where}.action"),
        "rules": [_rule(r, f"{where}.rules[{i}]") for i, r in enumerate(_list(data, where))],
    }


def _list(data: dict, where: str) -> list:
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        raise BatchError(f"{where}.rules", "must be a list")
    return rules


def _rule(data, where: str) -> dict:
    if not isinstance(data, dict):
        raise BatchError(where, "must be an object")
    unknown = sorted(set(data) - _RULE_FIELDS)
    if unknown:
        raise BatchError(f"{where}.{unknown[0]}", "is not a field of a rule result")
    for name in ("rule_id", "kind"):
        if not isinstance(data.get(name), str) or not 0 < len(data[name]) <= 200:
            raise BatchError(f"{where}.{name}", "must be a string of 1 to 200 characters")
    for name in ("score", "threshold"):
        if data.get(name) is not None and not _is_number(data[name]):
            raise BatchError(f"{where}.{name}", "must be a number or null")
    if not isinstance(data.get("fired"), bool):
        raise BatchError(f"{where}.fired", "must be true or false")
    return {
        "rule_id": data["rule_id"],
        "kind": data["kind"],
        "action": _action(data.get("action"), f"{where}.action"),
        "score": data.get("score"),
        "threshold": data.get("threshold"),
        "fired": data["fired"],
    }


def _scores(data, where: str) -> dict:
    if not isinstance(data, dict):
        raise BatchError(where, "must map score names to numbers")
    for name, value in data.items():
        if not 0 < len(name) <= 200 or not _is_number(value):
            raise BatchError(f"{where}.{name[:40]}", "must be a finite number")
    return data


def _thumbnail(value, where: str) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BatchError(where, "must be a base64 string of a JPEG, or null")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BatchError(where, "is not valid base64") from None
    if len(raw) > MAX_THUMBNAIL_BYTES:
        raise BatchError(where, f"a thumbnail is at most {MAX_THUMBNAIL_BYTES // 1024} KiB")
    if not raw.startswith(b"\xff\xd8"):
        raise BatchError(where, "is not a JPEG (thumbnails are sent as JPEG)")
    return raw


def _count(data, where: str) -> dict:
    if not isinstance(data, dict):
        raise BatchError(where, "must be an object")
    rule_id = data.get("rule_id", "")
    if not isinstance(rule_id, str) or len(rule_id) > 200:
        raise BatchError(f"{where}.rule_id", 'must be "" or a rule id of at most 200 characters')
    count = data.get("count")
    if not _is_int(count) or count < 1:
        raise BatchError(f"{where}.count", "must be a whole number, 1 or more")
    minute = _time(data.get("minute"), f"{where}.minute").replace(second=0, microsecond=0)
    return {
        "minute": minute,
        "channel": _channel(data.get("channel"), f"{where}.channel"),
        "version": _version(data.get("version"), f"{where}.version"),
        "action": _action(data.get("action"), f"{where}.action"),
        "rule_id": rule_id,
        "count": count,
    }


def _shadow_count(data, where: str) -> dict:
    if not isinstance(data, dict):
        raise BatchError(where, "must be an object")
    base = _count(
        {
            "minute": data.get("minute"),
            "channel": data.get("channel"),
            "version": data.get("version"),
            "action": data.get("enforced_action"),
            "rule_id": data.get("rule_id", ""),
            "count": data.get("count"),
        },
        where,
    )
    return {
        **base,
        "shadow_version": _version(data.get("shadow_version"), f"{where}.shadow_version"),
        "shadow_action": _action(data.get("shadow_action"), f"{where}.shadow_action"),
    }


def upload_channels(upload: DecisionUpload) -> set[str]:
    """Every channel the batch speaks for (the token's channel scope must cover each)."""
    rows = upload.records + upload.counts + upload.shadow_counts
    return {r["channel"] for r in rows}
