"""The open_clip backbone: tiny random config, local checkpoints, zero-shot categories."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from moderation.engine.models.base import ImageEncoder
from moderation.engine.models.clip import ClipEncoder, ClipSpec, ClipWeightsError, clip_file_pin
from moderation.engine.models.clip_zero_shot import ClipZeroShotScorer, category_prompts
from moderation.engine.models.hashing import sha256_file

pytestmark = pytest.mark.models

PICTURES = [Image.new("RGB", (80, 50), (200, 30, 30)), Image.new("L", (1, 1), 9)]


def test_tiny_clip_vectors_are_normalised_float32(tiny_clip):
    images = tiny_clip.encode_images(PICTURES)
    texts = tiny_clip.encode_texts(["a cat", "a dog on a sofa"])
    assert isinstance(tiny_clip, ImageEncoder)
    assert images.shape == texts.shape == (2, tiny_clip.dim)
    assert images.dtype == texts.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    assert tiny_clip.encode_images([]).shape == (0, tiny_clip.dim)
    assert tiny_clip.encode_texts([]).shape == (0, tiny_clip.dim)


def test_tiny_clip_is_uncalibrated_and_pinned_by_its_state_dict(tiny_clip):
    assert tiny_clip.calibrated is False
    assert tiny_clip.pin.name == "clip"
    assert "mp-tiny random-init seed 0" in tiny_clip.pin.version
    assert clip_file_pin(ClipSpec()) is None


def test_random_init_is_reproducible_and_seed_dependent(tiny_clip):
    again = ClipEncoder(ClipSpec(seed=0))
    other = ClipEncoder(ClipSpec(seed=1))
    assert again.pin == tiny_clip.pin
    np.testing.assert_array_equal(again.encode_images(PICTURES), tiny_clip.encode_images(PICTURES))
    assert other.pin.sha256 != tiny_clip.pin.sha256


def test_random_init_is_reproducible_in_a_fresh_process(tiny_clip):
    import subprocess
    import sys

    code = (
        "from moderation.engine.models.clip import ClipEncoder;"
        "e = ClipEncoder(); print(e.pin.sha256); print(e.encode_texts(['a cat'])[0][:4].tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == tiny_clip.pin.sha256
    np.testing.assert_allclose(json.loads(out[1]), tiny_clip.encode_texts(["a cat"])[0][:4])


def test_batching_does_not_change_vectors(tiny_clip):
    small = ClipEncoder(batch_size=1)
    np.testing.assert_allclose(
        small.encode_images(PICTURES), tiny_clip.encode_images(PICTURES), atol=1e-5
    )


def test_a_local_safetensors_checkpoint_is_calibrated_and_pinned_by_its_file(tmp_path, tiny_clip):
    from safetensors.torch import save_file

    path = tmp_path / "tiny.safetensors"
    model = ClipEncoder(ClipSpec(seed=3))._model
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path))
    loaded = ClipEncoder(ClipSpec(pretrained=str(path)))
    assert loaded.calibrated is True
    assert loaded.pin.sha256 == sha256_file(path) == clip_file_pin(loaded.spec).sha256
    np.testing.assert_allclose(
        loaded.encode_texts(["a cat"]),
        ClipEncoder(ClipSpec(seed=3)).encode_texts(["a cat"]),
        atol=1e-6,
    )


def test_a_local_dir_checkpoint_loads(tmp_path, tiny_clip):
    import torch

    from moderation.engine.models.clip import _CONFIG_DIR

    config = json.loads((_CONFIG_DIR / "mp-tiny.json").read_text())
    (tmp_path / "open_clip_config.json").write_text(json.dumps({"model_cfg": config}))
    torch.save(tiny_clip._model.state_dict(), tmp_path / "open_clip_pytorch_model.bin")
    loaded = ClipEncoder(ClipSpec(pretrained=f"local-dir:{tmp_path}"))
    assert loaded.pin.sha256 == sha256_file(tmp_path / "open_clip_pytorch_model.bin")
    np.testing.assert_allclose(
        loaded.encode_images(PICTURES), tiny_clip.encode_images(PICTURES), atol=1e-5
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ClipSpec(model="ViT-B-32", pretrained="openai"), "never does at run time"),
        (ClipSpec(pretrained="/nowhere/model.safetensors"), "does not exist"),
        (ClipSpec(model="no-such-arch"), "no architecture named"),
        (ClipSpec(pretrained="local-dir:/tmp"), "open_clip_config.json"),
    ],
)
def test_unusable_weights_are_refused_with_a_fix(spec, message):
    with pytest.raises(ClipWeightsError, match=message):
        ClipEncoder(spec)


def test_zero_shot_scores_in_range_and_honest_about_calibration(tiny_clip):
    prompts = category_prompts({"gore": ["blood and guts"], "weapons": ["a gun", "a knife."]})
    scorer = ClipZeroShotScorer(tiny_clip, prompts)
    rows = scorer.score(PICTURES)
    assert prompts["weapons"] == ["a photo containing a gun.", "a photo containing a knife."]
    assert scorer.outputs == ("clip_zero_shot.gore", "clip_zero_shot.weapons")
    assert scorer.calibrated is False
    assert all(0.0 <= v <= 1.0 for row in rows for v in row.values())
    assert scorer.pin.sha256 != ClipZeroShotScorer(tiny_clip, {"gore": ["x"]}).pin.sha256
