"""Custom classifiers registered by a spec: TorchScript, ONNX and Hugging Face folders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from moderation.engine.models.base import CategoryScorer
from moderation.engine.models.custom import CustomModelError, CustomScorer, CustomSpec
from moderation.engine.models.hashing import sha256_file

RED = Image.new("RGB", (40, 30), (255, 0, 0))
BLUE = Image.new("RGB", (8, 8), (0, 0, 255))
# A solid image normalised with ImageNet mean/std: per-channel means the models can see.
RED_CHANNELS = np.array([(1 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225])


class ChannelMeans(torch.nn.Module):
    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        means = pixels.mean(dim=(2, 3))
        return torch.stack([means[:, 0] - means[:, 2], means[:, 2] - means[:, 0]], dim=1)


class TextLength(torch.nn.Module):
    def forward(self, texts: list[str]) -> torch.Tensor:
        return torch.tensor([[float(len(t)) / 10.0] for t in texts])


def _softmax(logits):
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _spec(**overrides):
    base = {"name": "acme", "kind": "torchscript", "modality": "image", "labels": ["red", "blue"]}
    return {**base, **overrides}


def test_torchscript_image_classifier(tmp_path):
    path = tmp_path / "acme.pt"
    torch.jit.script(ChannelMeans()).save(str(path))
    scorer = CustomScorer(_spec(path=str(path), input_size=16))
    red, blue = scorer.score([RED, BLUE])
    assert isinstance(scorer, CategoryScorer)
    assert scorer.outputs == ("acme.red", "acme.blue")
    expected = _softmax(np.array([1, -1]) * (RED_CHANNELS[0] - RED_CHANNELS[2]))
    assert red["acme.red"] == pytest.approx(expected[0], rel=1e-4)
    assert blue["acme.blue"] > 0.99
    assert scorer.pin.sha256 == sha256_file(path)
    assert scorer.pin.name == "acme"


def test_torchscript_prompt_classifier_with_sigmoid_and_label_map(tmp_path):
    path = tmp_path / "length.pt"
    torch.jit.script(TextLength()).save(str(path))
    spec = _spec(
        name="long_prompt",
        path=str(path),
        modality="prompt",
        labels={0: "long"},
        activation="sigmoid",
    )
    scorer = CustomScorer(spec)
    short, long = scorer.score(["hi", "x" * 60])
    assert scorer.modality == "prompt"
    assert short["long_prompt.long"] == pytest.approx(1 / (1 + np.exp(-0.2)))
    assert long["long_prompt.long"] > 0.99


def test_onnx_image_classifier(tmp_path, tiny_image_classifier):
    path = tmp_path / "acme.onnx"
    path.write_bytes(tiny_image_classifier(np.array([[2.0, 0.0], [0.0, 0.0], [0.0, 1.0]])))
    scorer = CustomScorer(_spec(kind="onnx", path=str(path), input_size=[12, 20]))
    (red,) = scorer.score([RED])
    expected = _softmax(np.array([2 * RED_CHANNELS[0], RED_CHANNELS[2]]))
    assert red["acme.red"] == pytest.approx(expected[0], rel=1e-4)


def test_onnx_prompt_models_are_refused(tmp_path, tiny_image_classifier):
    path = tmp_path / "acme.onnx"
    path.write_bytes(tiny_image_classifier(np.eye(3)[:, :2]))
    with pytest.raises(CustomModelError, match="images only"):
        CustomScorer(_spec(kind="onnx", path=str(path), modality="prompt"))


def test_wrong_number_of_labels_is_reported(tmp_path):
    path = tmp_path / "acme.pt"
    torch.jit.script(ChannelMeans()).save(str(path))
    scorer = CustomScorer(_spec(path=str(path), labels=["a", "b", "c"]))
    with pytest.raises(CustomModelError, match=r"returned shape \(1, 2\); expected \(1, 3\)"):
        scorer.score([RED])


def test_hf_image_folder_matches_a_direct_forward(tmp_path):
    import transformers

    config = transformers.ViTConfig(
        image_size=32,
        patch_size=16,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=2,
        id2label={0: "safe", 1: "unsafe"},
        label2id={"safe": 0, "unsafe": 1},
    )
    torch.manual_seed(0)
    model = transformers.ViTForImageClassification(config).eval()
    model.save_pretrained(tmp_path)
    scorer = CustomScorer(
        {"name": "vit", "kind": "hf", "path": str(tmp_path), "modality": "image", "input_size": 32}
    )
    (row,) = scorer.score([RED])
    pixels = torch.from_numpy(scorer._pixels([RED]))
    with torch.no_grad():
        expected = torch.softmax(model(pixel_values=pixels).logits, dim=1)[0]
    assert scorer.outputs == ("vit.safe", "vit.unsafe")
    assert row["vit.unsafe"] == pytest.approx(float(expected[1]), rel=1e-4)


def test_hf_text_folder_uses_its_tokenizer(tmp_path):
    import transformers

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "knife", "cat"]))
    tokenizer = transformers.BertTokenizer(vocab_file=str(vocab))
    config = transformers.BertConfig(
        vocab_size=7,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=3,
    )
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(tmp_path / "m")
    tokenizer.save_pretrained(tmp_path / "m")
    scorer = CustomScorer(
        {
            "name": "bert",
            "kind": "hf",
            "path": str(tmp_path / "m"),
            "modality": "prompt",
            "labels": ["a", "b", "c"],
        }
    )
    rows = scorer.score(["knife", "cat cat"])
    assert [sum(row.values()) for row in rows] == [pytest.approx(1.0)] * 2
    assert rows[0] != rows[1]
    assert len(scorer.pin.sha256) == 64


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Bad Name"}, "name must match"),
        ({"kind": "tensorflow"}, "kind must be one of"),
        ({"path": "/no/such/model.pt"}, "does not exist"),
        ({"labels": {0: "a", 2: "b"}}, "indices must be 0..1"),
        ({"labels": ["a", "a"]}, "distinct"),
        ({"input_size": 0}, "input_size"),
        ({"normalize": {"mean": [0.5]}}, "normalize"),
        ({"colour": "red"}, "unknown fields"),
    ],
)
def test_bad_specs_name_the_model_and_the_field(tmp_path, overrides, message):
    path = tmp_path / "m.pt"
    path.write_bytes(b"x")
    with pytest.raises(CustomModelError, match=message):
        CustomSpec.parse({**_spec(path=str(path)), **overrides})
