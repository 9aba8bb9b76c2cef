"""The bundle's `sampling` object: which served decisions the fleet keeps as records."""

from __future__ import annotations

from typing import Any

from moderation.engine.bundle import fields as f
from moderation.engine.bundle.types import Sampling
from moderation.engine.errors import BundleError

MAX_THUMBNAIL_PX = 4096
_KEYS = ("enabled", "review_per_minute", "audit_share", "keep_blocks", "thumbnail_px")


def sampling_to_dict(s: Sampling) -> dict[str, Any]:
    """Return the canonical JSON form (the audit share always a float)."""
    return {
        "enabled": s.enabled,
        "review_per_minute": s.review_per_minute,
        "audit_share": float(s.audit_share),
        "keep_blocks": s.keep_blocks,
        "thumbnail_px": s.thumbnail_px,
    }


def sampling_from_dict(raw: Any) -> Sampling:
    """Validate the `sampling` object strictly; refusals name the field."""
    d = f.obj(raw, "sampling", _KEYS)
    thumbnail_px = f.integer(d["thumbnail_px"], "sampling.thumbnail_px")
    if thumbnail_px > MAX_THUMBNAIL_PX:
        raise BundleError(
            "sampling.thumbnail_px", f"{thumbnail_px} is above the {MAX_THUMBNAIL_PX} allowed"
        )
    return Sampling(
        enabled=f.boolean(d["enabled"], "sampling.enabled"),
        review_per_minute=f.integer(d["review_per_minute"], "sampling.review_per_minute"),
        audit_share=f.number(d["audit_share"], "sampling.audit_share", 0.0, 1.0),
        keep_blocks=f.boolean(d["keep_blocks"], "sampling.keep_blocks"),
        thumbnail_px=thumbnail_px,
    )
