"""Which text a keyword or embedding set reads, in the canonical bytes: prompt, image text or both.

The field is left out at "prompt", so bundles published before image text
existed re-encode to the same bytes, digest and signature.
"""

from __future__ import annotations

from typing import Any

from moderation.engine.bundle import fields as f
from moderation.engine.bundle.types import OCR_PIN, TEXT_TARGETS
from moderation.engine.errors import BundleError


def with_target(applies_to: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return `data` with `applies_to` added unless it is the default."""
    # Left out at "prompt", so a bundle published before image text existed
    # re-encodes to the same canonical bytes.
    if applies_to != TEXT_TARGETS[0]:
        data["applies_to"] = applies_to
    return data


def check_ocr_pinned(bundle: Any) -> None:
    """Refuse a bundle with a set reading image text that pins no OCR model."""
    groups = ("keyword_sets", "embedding_sets")
    for group in groups:
        for i, rule in enumerate(getattr(bundle, group)):
            if rule.applies_to != TEXT_TARGETS[0] and OCR_PIN not in bundle.pins:
                raise BundleError(
                    f"{group}[{i}].applies_to",
                    f"{rule.applies_to!r} reads text in images, but the bundle pins no "
                    f"{OCR_PIN!r} model under 'models'; add the OCR pin or apply it to prompts",
                )


def text_target(d: dict, path: str) -> str:
    """Return a set's `applies_to` from its JSON form (\"prompt\" when absent)."""
    return f.choice(d.get("applies_to", TEXT_TARGETS[0]), f"{path}.applies_to", TEXT_TARGETS)
