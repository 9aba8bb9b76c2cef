"""The image_text modality: keyword and embedding sets judged on the text OCR reads in images.

It runs in the image stage (evaluate's PIPELINE), only when the bundle has a set
whose `applies_to` is "image_text" or "both": the OCR reads every image of the batch
once, its lines are joined with newlines (a word boundary for whole-word terms),
every image-text keyword set is matched on that text, and the texts are embedded in
one text-encoder call for the embedding sets. Results have modality "image"; their
explanation carries what was read (boxes in the original image's pixels) and, for a
keyword match, the box and the character span in that box's text.
"""

from __future__ import annotations

import time
from typing import Any

from moderation.engine.decision import RuleResult
from moderation.engine.embedding_rules import explain as explain_embedding
from moderation.engine.embedding_rules import unit_rows
from moderation.engine.errors import EngineError, ModelOutputError
from moderation.engine.inputs import has_content
from moderation.engine.keywords import explain_matches
from moderation.engine.models.base import PinMismatch
from moderation.engine.models.ocr import ImageText

SOURCE = "image_text"
_NO_TEXT = "no text was read in the image"


def needs_image_text(compiled: Any) -> bool:
    """Whether the compiled bundle has any set reading image text."""
    return bool(compiled.image_text_keyword_sets or compiled.image_text_embedding)


def ocr_reader(models: Any) -> Any:
    """The provider's OCR reader; a provider without one cannot judge image text."""
    reader = getattr(models, "ocr", None)
    if reader is None:
        raise EngineError(
            "the bundle has rules on text in images, but this model provider has no OCR "
            "reader; evaluate it with the model registry (MODERATION_OCR=1)"
        )
    return reader()


def read_images(models: Any, images: list) -> list[ImageText]:
    """What the OCR reads in each image, checked to be one result per image."""
    reader = ocr_reader(models)
    texts = reader.read(images)
    if len(texts) != len(images):
        raise ModelOutputError(f"OCR {reader.pin.name!r} read {len(texts)} of {len(images)} images")
    return list(texts)


def judge_image_text(run: Any) -> None:
    """Read the text of every image of `run` once and judge every image-text set on it."""
    compiled = run.compiled
    rows = [i for i, item in enumerate(run.items) if item.image is not None]
    if not rows or not needs_image_text(compiled):
        return
    start = time.perf_counter()
    texts = dict(
        zip(rows, read_images(run.models, [run.items[i].image for i in rows]), strict=True)
    )
    run._charge("ocr", rows, start)
    start = time.perf_counter()
    _keywords(run, compiled, texts)
    run._charge("keywords", rows, start)
    if compiled.image_text_embedding:
        start = time.perf_counter()
        _embeddings(run, compiled, texts)
        run._charge("embed", rows, start)


def _keywords(run: Any, compiled: Any, texts: dict[int, ImageText]) -> None:
    rows = list(texts)
    joined = [texts[i].text for i in rows]
    for ks in compiled.image_text_keyword_sets:
        for i, matches in zip(rows, ks.match_batch(joined), strict=True):
            run.results[i].append(keyword_result(ks.keyword_set, matches, texts[i]))


def keyword_result(ks: Any, matches: list, text: ImageText) -> RuleResult:
    """The result of one keyword set on one image's text, each match located in its box."""
    explanation = explain_matches(matches)
    for match in explanation["matches"]:
        box, start, end = text.locate(*match["span"])
        match["box"], match["box_span"] = box, [start, end]
    explanation.update(source=SOURCE, image_text=text.as_dict())
    return RuleResult("keyword", ks.id, ks.name, "image", ks.action, bool(matches),
                      1.0 if matches else 0.0, None, explanation)  # fmt: skip


def _embeddings(run: Any, compiled: Any, texts: dict[int, ImageText]) -> None:
    active = [i for i, text in texts.items() if has_content(text.text)]
    vectors = None
    if active:
        encoder = run.models.text_encoder()
        what = f"text encoder {encoder.pin.name!r}"
        batch = [texts[i].text for i in active]
        vectors = unit_rows(encoder.encode(batch), len(batch), encoder.dim, what)
        for name in compiled.image_text_embedding:
            _check_dim(encoder, name, compiled.bundle.dims[name])
    row_of = {i: r for r, i in enumerate(active)}
    for stacked in compiled.image_text_embedding.values():
        scores = stacked.score(vectors) if vectors is not None else None
        for k, es in enumerate(stacked.sets):
            for i, text in texts.items():
                run.results[i].append(_embedding_result(es, scores, k, row_of.get(i), text))


def _embedding_result(es: Any, scores: Any, k: int, row: int | None, text: ImageText):
    if row is None:
        explanation = {"skipped": _NO_TEXT, "source": SOURCE, "image_text": text.as_dict()}
        return RuleResult("embedding", es.id, es.name, "image", es.action, False, 0.0,
                          es.threshold, explanation)  # fmt: skip
    explanation = explain_embedding(es, scores[k], row)
    explanation.update(source=SOURCE, image_text=text.as_dict())
    return RuleResult("embedding", es.id, es.name, "image", es.action, bool(scores[k].fired[row]),
                      float(scores[k].score[row]), es.threshold, explanation)  # fmt: skip


def _check_dim(encoder: Any, name: str, dim: int) -> None:
    if encoder.pin.name != name or encoder.dim != dim:
        raise PinMismatch(
            f"the bundle's image-text vectors come from text encoder {name!r} ({dim} "
            f"dimensions); the loaded text encoder is {encoder.pin.name!r} ({encoder.dim})"
        )
