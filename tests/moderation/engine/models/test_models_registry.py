"""The model registry: configuration, lazy single loads, pins and pin checks."""

from __future__ import annotations

import json
import threading

import pytest

from moderation.engine.models.base import ModelPin, PinMismatch
from moderation.engine.models.config import ConfigError
from moderation.engine.models.custom import CustomModelError
from moderation.engine.models.registry import ModelRegistry, RegistryConfig

EXAMPLES = {"weapons": ["a loaded gun pointed at someone"], "drugs": ["lines of cocaine"]}


@pytest.fixture(scope="module")
def registry():
    return ModelRegistry(RegistryConfig(device="cpu", text_category_examples=EXAMPLES))


def test_from_env_reads_every_documented_variable(tmp_path):
    custom = tmp_path / "custom.json"
    custom.write_text(json.dumps([{"name": "acme", "kind": "onnx", "path": "/m.onnx"}]))
    phrases = tmp_path / "phrases.yaml"
    phrases.write_text("hate:\n  - a hateful slur\n")
    config = RegistryConfig.from_env(
        {
            "MODERATION_DEVICE": "CPU",
            "MODERATION_CLIP_MODEL": "ViT-B-32",
            "MODERATION_CLIP_PRETRAINED": "/models/clip.safetensors",
            "MODERATION_CLIP_SEED": "5",
            "MODERATION_NUDENET": "0",
            "MODERATION_NUDENET_FLOOR": "0.5",
            "MODERATION_OPENNSFW": "off",
            "MODERATION_CLIP_ZERO_SHOT": "1",
            "MODERATION_TEXT_CATEGORIES": str(phrases),
            "MODERATION_CUSTOM_MODELS": str(custom),
        }
    )
    assert (config.device, config.clip_model, config.clip_seed) == ("cpu", "ViT-B-32", 5)
    assert config.clip_pretrained == "/models/clip.safetensors"
    assert (config.enable_nudenet, config.enable_opennsfw) == (False, False)
    assert (config.nudenet_floor, config.enable_clip_zero_shot) == (0.5, True)
    assert config.text_category_examples == {"hate": ["a hateful slur"]}
    assert config.custom_models[0]["name"] == "acme"


def test_from_env_defaults_to_the_tiny_offline_setup():
    config = RegistryConfig.from_env({})
    assert config == RegistryConfig()
    assert config.clip_model == "mp-tiny"
    assert config.clip_pretrained is None


def test_catalogue_examples_fill_text_categories_only_when_none_are_configured():
    from moderation.engine.catalogue import load_catalogue

    filled = RegistryConfig().with_catalogue_examples()
    assert filled.text_category_examples == load_catalogue().prompt_examples()
    assert "text" in ModelRegistry(filled).pins()
    own = RegistryConfig(text_category_examples={"violence": ["a brawl"]})
    assert own.with_catalogue_examples() == own


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODERATION_NUDENET": "maybe"}, "use 1 or 0"),
        ({"MODERATION_CLIP_SEED": "x"}, "not a valid int"),
        ({"MODERATION_CUSTOM_MODELS": "/no/such/file.yaml"}, "cannot read"),
    ],
)
def test_bad_environment_values_are_explained(env, message):
    with pytest.raises(ConfigError, match=message):
        RegistryConfig.from_env(env)


def test_unknown_device_and_taken_custom_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="auto, cpu or cuda"):
        ModelRegistry(RegistryConfig(device="tpu"))
    spec = {
        "name": "nudenet",
        "kind": "onnx",
        "path": str(tmp_path),
        "modality": "image",
        "labels": ["x"],
    }
    with pytest.raises(CustomModelError, match="already taken"):
        ModelRegistry(RegistryConfig(device="cpu", custom_models=[spec]))


@pytest.mark.models
def test_pins_cover_enabled_models_and_are_stable(registry):
    pins = registry.pins()
    assert set(pins) == {"minilm", "clip", "nudenet", "opennsfw", "text", "ocr"}
    assert all(pin.name == name for name, pin in pins.items())
    again = ModelRegistry(RegistryConfig(device="cpu", text_category_examples=EXAMPLES))
    assert again.pins() == pins


def test_pins_are_hashed_once_per_registry_not_per_check(monkeypatch):
    import moderation.engine.models.registry as registry_module

    fresh = ModelRegistry(RegistryConfig(device="cpu", text_category_examples=EXAMPLES))
    calls = []
    made = registry_module.minilm_pin
    monkeypatch.setattr(registry_module, "minilm_pin", lambda: calls.append(1) or made())
    pins = fresh.pins()
    for _ in range(3):
        fresh.check_pins(pins)
    fresh.pins()["minilm"] = None  # a caller's copy: the registry's pins are unchanged

    assert calls == [1]
    assert fresh.pins() == pins


@pytest.mark.models
def test_two_registries_give_identical_tiny_clip_vectors(registry):
    import numpy as np
    from PIL import Image

    image = [Image.new("RGB", (30, 30), (10, 120, 250))]
    other = ModelRegistry(RegistryConfig(device="cpu"))
    np.testing.assert_array_equal(
        registry.image_encoder().encode_images(image), other.image_encoder().encode_images(image)
    )
    assert registry.image_encoder().pin == other.image_encoder().pin


@pytest.mark.models
def test_each_model_loads_once_even_under_concurrency(registry):
    encoders = []
    threads = [
        threading.Thread(target=lambda: encoders.append(registry.text_encoder())) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(encoder) for encoder in encoders}) == 1
    assert registry.scorers("prompt")[0] is registry.scorers("prompt")[0]


@pytest.mark.models
def test_scorers_by_modality(registry):
    prompt = registry.scorers("prompt")
    image = registry.scorers("image")
    assert [s.pin.name for s in prompt] == ["text"]
    assert [s.pin.name for s in image] == ["nudenet", "opennsfw"]
    assert all(s.modality == "image" for s in image)
    with pytest.raises(ValueError, match="modality"):
        registry.scorers("audio")


@pytest.mark.models
def test_zero_shot_is_off_for_random_weights_unless_asked(registry):
    assert "clip_zero_shot" not in registry.pins()
    forced = ModelRegistry(
        RegistryConfig(
            device="cpu",
            text_category_examples=EXAMPLES,
            enable_clip_zero_shot=True,
            enable_nudenet=False,
            enable_opennsfw=False,
        )
    )
    (scorer,) = forced.scorers("image")
    assert scorer.outputs == ("clip_zero_shot.drugs", "clip_zero_shot.weapons")
    assert scorer.calibrated is False
    assert forced.pins()["clip_zero_shot"] == scorer.pin


@pytest.mark.models
def test_check_pins_accepts_its_own_pins(registry):
    registry.check_pins(registry.pins())
    registry.check_pins({})


@pytest.mark.models
def test_check_pins_names_both_pins_on_mismatch(registry):
    needed = ModelPin("clip", "ViT-B-32 model.safetensors (open_clip_torch 3.3.0)", "ab12" * 16)
    with pytest.raises(PinMismatch) as caught:
        registry.check_pins({"clip": needed})
    message = str(caught.value)
    assert message.startswith("bundle needs clip ViT-B-32 model.safetensors")
    assert "sha256 ab12ab12ab12…" in message
    assert "but this process loaded clip mp-tiny random-init seed 0" in message
    assert registry.pins()["clip"].sha256[:12] in message


@pytest.mark.models
def test_check_pins_reports_a_missing_model(registry):
    with pytest.raises(PinMismatch, match="no model named 'acme'"):
        registry.check_pins({"acme": ModelPin("acme", "custom onnx", "0" * 64)})


@pytest.mark.models
def test_warm_up_loads_everything_and_reports_times(registry):
    seconds = registry.warm_up()
    assert {"minilm", "clip", "scorer:text", "scorer:nudenet", "scorer:opennsfw"} <= set(seconds)
    info = registry.device_info()
    assert info["device"] == "cpu"
    assert info["clip_calibrated"] is False
    assert "minilm" in info["loaded"]
