"""Real models, each loaded once per test session, and small generated images."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def minilm():
    from moderation.engine.models.sentence import SentenceEncoder

    return SentenceEncoder(device="cpu")


@pytest.fixture(scope="session")
def tiny_clip():
    from moderation.engine.models.clip import ClipEncoder

    return ClipEncoder(device="cpu")


@pytest.fixture(scope="session")
def nudenet_scorer():
    from moderation.engine.models.nudenet import NudeNetScorer

    return NudeNetScorer()


@pytest.fixture(scope="session")
def opennsfw_scorer():
    from moderation.engine.models.opennsfw import OpenNsfwScorer

    return OpenNsfwScorer(device="cpu")


@pytest.fixture
def grey_image():
    return Image.new("RGB", (224, 224), (128, 128, 128))


@pytest.fixture
def noise_image():
    pixels = np.random.default_rng(7).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


@pytest.fixture
def tiny_image_classifier():
    """Return a function writing a tiny ONNX image classifier without the onnx package.

    onnx (and onnxscript, which torch.onnx.export needs) is not installed here, so the
    protobuf is encoded by hand from the ONNX schema's field numbers. The model:
    GlobalAveragePool over (n, 3, H, W), Flatten, MatMul by a 3 x k weight.
    """
    return _tiny_image_classifier


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint((number << 3) | 2) + _varint(len(data)) + data


def _value_info(name: str, dims: list[int | str]) -> bytes:
    shape = b"".join(_field(1, _field(1, d) if isinstance(d, int) else _field(2, d)) for d in dims)
    tensor_type = _field(1, 1) + _field(2, shape)  # elem_type FLOAT, shape
    return _field(1, name) + _field(2, _field(1, tensor_type))


def _node(op: str, inputs: list[str], output: str) -> bytes:
    return b"".join(_field(1, i) for i in inputs) + _field(2, output) + _field(4, op)


def _tiny_image_classifier(weight: np.ndarray) -> bytes:
    """Return ONNX bytes computing mean-per-channel @ weight, for float32 NCHW input."""
    weight = np.asarray(weight, dtype=np.float32)
    initializer = (
        b"".join(_field(1, d) for d in weight.shape)
        + _field(2, 1)
        + _field(8, "weight")
        + _field(9, weight.tobytes())
    )
    graph = (
        _field(1, _node("GlobalAveragePool", ["pixels"], "pooled"))
        + _field(1, _node("Flatten", ["pooled"], "flat"))
        + _field(1, _node("MatMul", ["flat", "weight"], "logits"))
        + _field(2, "tiny")
        + _field(5, initializer)
        + _field(11, _value_info("pixels", ["n", 3, "h", "w"]))
        + _field(12, _value_info("logits", ["n", weight.shape[1]]))
    )
    opset = _field(1, "") + _field(2, 13)
    return _field(1, 8) + _field(7, graph) + _field(8, opset)
