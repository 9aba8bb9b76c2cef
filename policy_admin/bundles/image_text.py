"""Rules on text in images, in the bundle: the OCR pin they need, and what a draft leaves out.

A keyword or embedding set whose `applies_to` is "image_text" or "both" reads the
text the OCR model finds in images, so the bundle pins that model. A process without
it (MODERATION_OCR=0, or the package missing) refuses to publish such a policy and
tests drafts with those sets judging prompts only ("both") or left out ("image_text").
"""

import dataclasses

from kernel.errors import ApplicationError
from moderation.engine.bundle.types import OCR_PIN, reads


def image_text_sets(sets, models, pins: dict, strict: bool, warnings: list[str]) -> list:
    """`sets` with the OCR pin added to `pins` when one reads image text; see the module doc."""
    readers = [s for s in sets if reads(s.applies_to, "image_text")]
    if not readers:
        return list(sets)
    available = models.pins()
    if OCR_PIN in available:
        pins[OCR_PIN] = available[OCR_PIN]
        return list(sets)
    names = ", ".join(f"“{s.name}”" for s in readers)
    problem = (
        f"{names} read text in images, but this deployment has no OCR model "
        f"(pin {OCR_PIN!r}); install rapidocr-onnxruntime and set MODERATION_OCR=1"
    )
    if strict:
        raise ApplicationError(problem + ", or apply those sets to prompts only.")
    warnings.append(problem + ". This test judged prompts only with them.")
    return [
        dataclasses.replace(s, applies_to="prompt") for s in sets if reads(s.applies_to, "prompt")
    ]
