"""Keyword and embedding sets on the text OCR reads in images (fake OCR, no weights)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from moderation.engine.bundle import Bundle, EmbeddingSet, KeywordSet, MatchOptions, PolicyInfo
from moderation.engine.decision import Action
from moderation.engine.embedding_rules import embedding_set_vectors
from moderation.engine.errors import BundleError
from moderation.engine.evaluate import evaluate, evaluate_batch
from moderation.engine.models.base import PinMismatch
from moderation.engine.recording import RecordingModels, ReplayingModels
from moderation.engine.staged import run_stage, stage_needed, staged_decisions, staged_items
from tests.moderation.engine.conftest import FakeModels
from tests.moderation.engine.ocr_fakes import OcrModels, picture


def keyword_set(applies_to: str = "image_text", terms=("casino",)) -> KeywordSet:
    return KeywordSet("kw-gambling", "Gambling", Action.BLOCK, tuple(terms), (), MatchOptions(),
                      applies_to=applies_to)  # fmt: skip


def text_bundle(models, *sets, embedding_sets=()) -> Bundle:
    return Bundle.create(
        policy=PolicyInfo("acme", "default", "Default", 1, 1),
        pins=models.pins(),
        dims={"minilm": models.text.dim},
        keyword_sets=tuple(sets),
        embedding_sets=tuple(embedding_sets),
    )


@pytest.fixture
def ocr_models() -> OcrModels:
    return OcrModels()


def test_image_text_keyword_fires_with_box_and_span(ocr_models):
    bundle = text_bundle(ocr_models, keyword_set())
    decision = evaluate(
        bundle, image=picture("hello there", "FREE Casino nights"), models=ocr_models
    )
    assert decision.action is Action.BLOCK
    (result,) = decision.fired
    assert result.modality == "image"
    match = result.explanation["matches"][0]
    assert match["text"] == "Casino"
    assert match["box"] == 1
    assert match["box_span"] == [5, 11]
    read = result.explanation["image_text"]
    assert read["text"] == "hello there\nFREE Casino nights"
    assert read["boxes"][1]["points"][0] == [5.0, 30.0]
    assert read["boxes"][1]["confidence"] == pytest.approx(0.97)


def test_prompt_set_ignores_image_text_and_image_set_ignores_prompt(ocr_models):
    poker = dataclasses.replace(keyword_set("prompt", ("poker",)), id="kw-poker")
    bundle = text_bundle(ocr_models, keyword_set("image_text", ("casino",)), poker)
    decision = evaluate(bundle, prompt="casino", image=picture("poker"), models=ocr_models)
    assert decision.action is Action.ALLOW
    assert {(r.rule_id, r.modality) for r in decision.results} == {
        ("kw-gambling", "image"),
        ("kw-poker", "prompt"),
    }


def test_both_judges_prompt_and_image_text(ocr_models):
    bundle = text_bundle(ocr_models, keyword_set("both"))
    decision = evaluate(bundle, prompt="a quiet street", image=picture("casino"), models=ocr_models)
    by_modality = {r.modality: r.fired for r in decision.results}
    assert by_modality == {"prompt": False, "image": True}


def test_ocr_runs_once_per_batch_and_never_without_images(ocr_models):
    bundle = text_bundle(ocr_models, keyword_set())
    decisions = evaluate_batch(
        bundle, [{"image": picture("casino")}, {"image": picture("bank")}, {"prompt": "casino"}],
        models=ocr_models,
    )  # fmt: skip
    assert [d.action for d in decisions] == [Action.BLOCK, Action.ALLOW, Action.ALLOW]
    assert ocr_models.reader.calls == [2]
    assert decisions[0].timings_ms["ocr"] >= 0


def test_bundle_without_image_text_sets_never_reads(ocr_models):
    bundle = text_bundle(ocr_models, keyword_set("prompt"))
    evaluate(bundle, prompt="hi", image=picture("casino"), models=ocr_models)
    assert ocr_models.reader.calls == []


def test_image_without_text_gives_a_quiet_result(ocr_models):
    bundle = text_bundle(ocr_models, keyword_set())
    decision = evaluate(bundle, image=picture(), models=ocr_models)
    (result,) = decision.results
    assert not result.fired
    assert result.explanation["image_text"]["text"] == ""


def test_embedding_set_on_image_text(ocr_models):
    examples, counters = embedding_set_vectors(ocr_models.text, ["buy cheap pills online"])
    es = EmbeddingSet("emb-pills", "Pills", Action.REVIEW, 0.9, "minilm",
                      ("buy cheap pills online",), examples, applies_to="image_text")  # fmt: skip
    bundle = text_bundle(ocr_models, embedding_sets=[es])
    fired, blank = evaluate_batch(
        bundle, [{"image": picture("buy cheap", "pills online")}, {"image": picture()}],
        models=ocr_models,
    )  # fmt: skip
    assert fired.action is Action.REVIEW
    assert fired.results[0].explanation["nearest_example"] == "buy cheap pills online"
    assert fired.results[0].explanation["source"] == "image_text"
    assert blank.results[0].explanation["skipped"] == "no text was read in the image"
    assert ocr_models.text.calls[-1] == ["buy cheap\npills online"]


def test_staged_image_stage_reads_image_text(ocr_models):
    bundle = text_bundle(ocr_models, keyword_set())
    partials = staged_items(bundle, [{"image": picture("casino")}], models=ocr_models)
    assert stage_needed(bundle, "image", partials[0].item)
    assert not stage_needed(bundle, "prompt", partials[0].item)
    run_stage(bundle, "image", partials, models=ocr_models)
    (decision,) = staged_decisions(bundle, partials)
    assert decision.action is Action.BLOCK


def test_shadow_replays_what_the_ocr_read(ocr_models):
    bundle = text_bundle(ocr_models, keyword_set())
    recording = RecordingModels(ocr_models)
    image = picture("casino")
    evaluate(bundle, image=image, models=recording)
    replaying = ReplayingModels(ocr_models, [recording.memo])
    assert evaluate(bundle, image=image, models=replaying).action is Action.BLOCK
    assert ocr_models.reader.calls == [1]
    assert replaying.extra_calls == 0


def test_default_applies_to_is_left_out_of_the_bytes(ocr_models):
    plain = dataclasses.replace(keyword_set("prompt"))
    bundle = text_bundle(ocr_models, plain)
    raw = json.loads(bundle.to_bytes())
    assert "applies_to" not in raw["keyword_sets"][0]
    # An old bundle's bytes (no field at all) parse and re-encode to the same digest.
    assert Bundle.from_bytes(bundle.to_bytes()).sha256 == bundle.sha256


def test_applies_to_round_trips(ocr_models):
    examples, _ = embedding_set_vectors(ocr_models.text, ["x y"])
    es = EmbeddingSet("e", "E", Action.FLAG, 0.5, "minilm", ("x y",), examples, applies_to="both")
    bundle = text_bundle(ocr_models, keyword_set("image_text"), embedding_sets=[es])
    again = Bundle.from_bytes(bundle.to_bytes())
    assert again.keyword_sets[0].applies_to == "image_text"
    assert again.embedding_sets[0].applies_to == "both"
    assert again.sha256 == bundle.sha256


def test_unknown_applies_to_is_refused_with_its_path(ocr_models):
    raw = json.loads(text_bundle(ocr_models, keyword_set()).to_bytes())
    raw["keyword_sets"][0]["applies_to"] = "image"
    with pytest.raises(BundleError, match=r"keyword_sets\[0\]\.applies_to"):
        Bundle.create(**_parts(raw))


def _parts(raw):
    from moderation.engine.bundle.codec import bundle_from_dict

    return vars(bundle_from_dict(raw))


def test_image_text_set_without_ocr_pin_is_refused():
    models = FakeModels()
    with pytest.raises(BundleError, match="pins no 'ocr' model"):
        text_bundle(models, keyword_set())


def test_process_without_ocr_refuses_the_bundle_naming_the_pin(ocr_models):
    bundle = text_bundle(ocr_models, keyword_set())
    with pytest.raises(PinMismatch, match="'ocr'"):
        evaluate(bundle, image=picture("casino"), models=FakeModels())
