"""What the decision log keeps of a served decision: why it is kept, and its record's JSON.

The sampling draw (`Sampler.reasons`) is O(1) and runs on the serving thread under the
log's lock; everything costly (thumbnail, hashing, JSON) runs in `record_json`, on the
uploader thread.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from PIL import Image

from moderation.engine.bundle.types import Sampling
from moderation.engine.decision import Decision
from moderation.fleet.agent import Active, Served

# The ingest endpoint's limits (docs/production.md): a record past one of them would get
# its whole batch refused, so records are made to fit.
MAX_PROMPT_CHARS = 100_000
MAX_ID_CHARS = 200
MAX_THUMBNAIL_BYTES = 256 * 1024
JPEG_QUALITIES = (80, 60, 40)


class Sampler:
    """Decides why a decision is kept: review (rate-limited), audit (random), block."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()
        self._minute: int | None = None
        self._reviews = 0

    def reasons(
        self, sampling: Sampling | None, action: str, minute: int, *, audit: bool | None = None
    ) -> tuple[str, ...]:
        """Return the reasons to keep a decision of `action` made in `minute` (epoch // 60).

        The audit draw happens for every decision, whatever its action, so the audit
        stratum is a uniform sample with inclusion probability `audit_share`. A caller
        that drew it already (with this sampler's rng) passes the outcome as `audit`.
        """
        if sampling is None or not sampling.enabled:
            return ()
        reasons = []
        if action == "review":
            if minute != self._minute:
                self._minute, self._reviews = minute, 0
            if self._reviews < sampling.review_per_minute:
                self._reviews += 1
                reasons.append("review")
        elif action == "block" and sampling.keep_blocks:
            reasons.append("block")
        if audit is None:
            audit = sampling.audit_share > 0 and self.rng.random() < sampling.audit_share
        if audit:
            reasons.append("audit")
        return tuple(reasons)


@dataclass(frozen=True, slots=True)
class Kept:
    """A served decision waiting in memory to become a record."""

    served: Served
    reasons: tuple[str, ...]
    decided_at: float  # epoch seconds
    size: int  # estimated bytes held in memory
    # For a shadow flip: what the shadowed candidate decided (the record's "shadow").
    shadow: dict[str, Any] | None = None


def sampling_of(active: Active) -> tuple[int | None, Sampling | None, float, bool]:
    """What the log needs of a bundle: its version and its sampling (None when off)."""
    bundle = active.compiled.bundle
    sampling = bundle.sampling if bundle.sampling is not None and bundle.sampling.enabled else None
    if sampling is None:
        return bundle.policy.version, None, 0.0, False
    return bundle.policy.version, sampling, sampling.audit_share, sampling.keep_blocks


def kept_size(served: Served) -> int:
    """Estimate the memory a kept decision holds (decoded pixels dominate)."""
    size = 2048 + 64 * len(served.decision.results)
    if served.item.prompt is not None:
        size += len(served.item.prompt)
    if served.item.image is not None:
        size += served.item.image.width * served.item.image.height * 3
    if served.image_bytes is not None:
        size += len(served.image_bytes)
    return size


def iso(epoch: float) -> str:
    """Return an ISO-8601 UTC time with a Z suffix."""
    stamp = dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def minute_iso(minute: int) -> str:
    """Return the start of minute `minute` (epoch // 60) as the contract writes it."""
    return dt.datetime.fromtimestamp(minute * 60, dt.UTC).strftime("%Y-%m-%dT%H:%M:00Z")


def record_json(kept: Kept, *, channel: str) -> bytes:
    """Return the JSON bytes of the contract's record for a kept decision."""
    served, decision = kept.served, kept.served.decision
    sampling = served.active.compiled.bundle.sampling or Sampling(enabled=False)
    prompt = served.item.prompt
    image = served.item.image
    record = {
        "request_id": (served.request_id or uuid.uuid4().hex)[:MAX_ID_CHARS],
        "decided_at": iso(kept.decided_at),
        "channel": channel,
        "version": served.active.version,
        "bundle_sha256": served.active.sha256,
        "action": decision.action.value,
        "reasons": list(kept.reasons),
        "inclusion_probability": sampling.audit_share if "audit" in kept.reasons else None,
        "rules": rule_rows(decision),
        "scores": scores(decision),
        "prompt": prompt[:MAX_PROMPT_CHARS] if prompt is not None else None,
        "thumbnail_base64": _b64(thumbnail_jpeg(image, sampling.thumbnail_px)),
        "image_sha256": image_sha256(served),
    }
    if kept.shadow is not None:
        record["shadow"] = kept.shadow
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


def scores(decision: Decision) -> dict[str, float]:
    """Every category score (the highest over modalities) and every concept score, by name.

    Categories are keyed by category id (`sexual`), concepts by rule id (`concept:7`);
    rules skipped for an empty prompt scored nothing and are left out.
    """
    out: dict[str, float] = {}
    for r in decision.results:
        if r.kind == "category" and "category" in r.explanation:
            name = r.explanation["category"]
            out[name] = max(out.get(name, 0.0), r.score)
        elif r.kind == "concept":
            out[r.rule_id] = r.score
    return out


def thumbnail_jpeg(image: Image.Image | None, px: int) -> bytes | None:
    """Return a JPEG of `image` whose longest side is at most `px` (never enlarged), or None.

    A JPEG over MAX_THUMBNAIL_BYTES is encoded again at a lower quality, then smaller.
    """
    if image is None or px <= 0:
        return None
    while True:
        scale = min(1.0, px / max(image.width, image.height))
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        small = image if size == image.size else image.resize(size, Image.Resampling.BILINEAR)
        small = small.convert("RGB")
        for quality in JPEG_QUALITIES:
            out = io.BytesIO()
            small.save(out, format="JPEG", quality=quality)
            if out.tell() <= MAX_THUMBNAIL_BYTES:
                return out.getvalue()
        px = max(1, max(size) // 2)


def image_sha256(served: Served) -> str | None:
    """The sha256 of the encoded image the caller sent, else of the decoded RGB pixels."""
    if served.image_bytes is not None:
        return hashlib.sha256(served.image_bytes).hexdigest()
    image = served.item.image
    if image is None:
        return None
    return hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def packed_body(
    *,
    batch_id: str,
    instance_id: str,
    dropped: int,
    counts: list[dict[str, Any]],
    records: list,
    shadow_counts: list[dict[str, Any]] | None = None,
) -> bytes:
    """Return the batch's JSON body from pre-encoded record bytes."""
    head_fields = {
        "batch_id": batch_id, "instance_id": instance_id, "dropped": dropped, "counts": counts,
    }  # fmt: skip
    if shadow_counts:
        head_fields["shadow_counts"] = shadow_counts
    head = json.dumps(head_fields, separators=(",", ":")).encode()
    return head[:-1] + b',"records":[' + b",".join(records) + b"]}"


def rule_rows(decision: Decision) -> list[dict[str, Any]]:
    """A record's `rules` (and its shadow's): each rule's id, kind, action, score, fired."""
    return [
        {
            "rule_id": r.rule_id,
            "kind": r.kind,
            "action": r.action.value,
            "score": r.score,
            "threshold": r.threshold,
            "fired": r.fired,
        }
        for r in decision.results
    ]
