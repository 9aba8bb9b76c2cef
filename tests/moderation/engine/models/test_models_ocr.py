"""The OCR adapter: pin, downscale and mapping back, no-text fast path, confidence floor.

The real PP-OCR models load in about 0.2 s and read a 640 px image in under a second
on one CPU core, so these run with the fast tests.
"""

from __future__ import annotations

import logging

import pytest
from PIL import Image

from moderation.engine.bundle import Bundle, KeywordSet, MatchOptions, PolicyInfo
from moderation.engine.decision import Action
from moderation.engine.evaluate import evaluate
from moderation.engine.models import registry as registry_module
from moderation.engine.models.base import PinMismatch
from moderation.engine.models.ocr import OcrReader, OcrUnavailable, downscale, ocr_pin
from moderation.engine.models.registry import ModelRegistry, RegistryConfig
from tests.images import text_image


@pytest.fixture(scope="module")
def reader() -> OcrReader:
    return OcrReader(max_side=1024)


def test_pin_hashes_the_packaged_onnx_files():
    pin = ocr_pin()
    assert pin.name == "ocr"
    assert "rapidocr-onnxruntime 1.4.4" in pin.version
    assert len(pin.sha256) == 64
    assert ocr_pin() == pin


def test_reads_rendered_text_with_boxes_in_pixels(reader):
    read = reader.read_one(text_image(["play at the casino", "tonight only"]))
    assert read.text == "play at the casino\ntonight only"
    left, top, right, bottom = read.boxes[0].rect()
    assert 30 <= left <= 50
    assert 45 <= top <= 70
    assert 350 <= right <= 460
    assert read.boxes[0].confidence > 0.9


def test_huge_image_is_downscaled_and_boxes_map_back(reader):
    small = text_image(["play at the casino"])
    big = small.resize((small.width * 4, small.height * 4))
    read_small, read_big = reader.read_one(small), reader.read_one(big)
    assert read_big.scale == pytest.approx(1024 / 2560)
    assert read_big.text == read_small.text
    assert (read_big.width, read_big.height) == big.size
    for a, b in zip(read_small.boxes[0].rect(), read_big.boxes[0].rect(), strict=True):
        assert b == pytest.approx(a * 4, abs=24)


def test_downscale_keeps_small_images_and_shrinks_the_longest_side():
    image = Image.new("RGB", (3000, 1000))
    assert downscale(Image.new("RGB", (800, 600)), 1024)[1] == 1.0
    shrunk, scale = downscale(image, 1000)
    assert shrunk.size == (1000, 333)
    assert scale == pytest.approx(1 / 3)


def test_uniform_image_skips_the_models(reader, monkeypatch):
    def never(_):
        raise AssertionError("the OCR models ran on a blank image")

    monkeypatch.setattr(reader, "_engine", never)
    read = reader.read_one(Image.new("RGB", (4000, 3000), (30, 90, 200)))
    assert read.boxes == ()
    assert read.text == ""


def test_noisy_image_without_text_gives_no_boxes(reader):
    image = Image.effect_noise((256, 256), 12).convert("RGB")
    assert reader.read_one(image).boxes == ()


def test_lines_under_the_minimum_confidence_are_dropped(reader, monkeypatch):
    square = [[0, 0], [10, 0], [10, 10], [0, 10]]
    found = [[square, "sure", 0.93], [square, "unsure", 0.42], [square, "  ", 0.99]]
    monkeypatch.setattr(reader, "_engine", lambda _: (found, None))
    monkeypatch.setattr(reader, "min_confidence", 0.6)
    read = reader.read_one(text_image(["x"]))
    assert [b.text for b in read.boxes] == ["sure"]


def test_settings_are_checked():
    with pytest.raises(ValueError, match="minimum confidence"):
        OcrReader(min_confidence=1.5)
    with pytest.raises(ValueError, match="at least 32 px"):
        OcrReader(max_side=8)


def test_settings_come_from_the_environment():
    config = RegistryConfig.from_env(
        {
            "MODERATION_OCR": "0",
            "MODERATION_OCR_MIN_CONFIDENCE": "0.7",
            "MODERATION_OCR_MAX_SIDE": "800",
        }
    )
    assert (config.enable_ocr, config.ocr_min_confidence, config.ocr_max_side) == (False, 0.7, 800)


def _registry(**config) -> ModelRegistry:
    return ModelRegistry(RegistryConfig(enable_nudenet=False, enable_opennsfw=False, **config))


def _image_text_bundle(pins) -> Bundle:
    ks = KeywordSet("kw", "Gambling", Action.BLOCK, ("casino",), (), MatchOptions(), "image_text")
    return Bundle.create(
        policy=PolicyInfo("acme", "default", "Default", 1, 1), pins=pins, keyword_sets=(ks,)
    )


@pytest.mark.models  # the registry hashes every enabled model's weights: seconds
def test_registry_flags_rendered_text_through_the_real_ocr():
    registry = _registry()
    bundle = _image_text_bundle({"ocr": registry.pins()["ocr"]})
    decision = evaluate(bundle, image=text_image(["play at the casino"]), models=registry)
    assert decision.action is Action.BLOCK
    match = decision.fired[0].explanation["matches"][0]
    assert (match["box"], match["box_span"]) == (0, [12, 18])


def test_switched_off_ocr_has_no_pin_and_refuses_image_text_bundles():
    bundle = _image_text_bundle({"ocr": ocr_pin()})
    registry = _registry(enable_ocr=False)
    assert "ocr" not in registry.pins()
    with pytest.raises(PinMismatch, match="no model named 'ocr'"):
        registry.check_pins(bundle.pins)


def test_missing_ocr_model_is_said_once_and_the_pin_named(monkeypatch, caplog):
    bundle = _image_text_bundle({"ocr": ocr_pin()})

    def missing():
        raise OcrUnavailable("the OCR model is missing: rapidocr-onnxruntime is not installed")

    monkeypatch.setattr(registry_module, "ocr_pin", missing)
    registry = _registry()
    with caplog.at_level(logging.WARNING, logger=registry_module.__name__):
        registry.pins()
        registry.pins()
        with pytest.raises(PinMismatch, match=r"bundle needs ocr PP-OCRv4.*no model named 'ocr'"):
            registry.check_pins(bundle.pins)
    warnings = [r.getMessage() for r in caplog.records if "OCR model is missing" in r.getMessage()]
    assert len(warnings) == 1
    assert "image_text rules will be refused" in warnings[0]
