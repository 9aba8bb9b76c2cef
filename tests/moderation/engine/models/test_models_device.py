"""Device and precision choice: half precision and pinned copies on CUDA, CPU unchanged.

No GPU is needed: the CUDA branch is taken with torch.cuda.is_available patched, and the
copy path is checked on a stand-in tensor that records what was asked of it.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from moderation.engine.models.config import RegistryConfig
from moderation.engine.models.device import (
    DeviceUnavailable,
    Placement,
    resolve_precision,
)
from moderation.engine.models.registry import ModelRegistry


class FakeTensor:
    """Records pin_memory() and to(); pinned once pin_memory() was called."""

    def __init__(self, pinned: bool = False) -> None:
        self.pinned, self.calls = pinned, []

    def is_pinned(self) -> bool:
        return self.pinned

    def pin_memory(self) -> FakeTensor:
        self.calls.append("pin_memory")
        return FakeTensor(pinned=True)

    def to(self, *args, **kwargs):
        self.calls.append(("to", args, kwargs))
        return self


@pytest.fixture
def cuda_present(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


def test_auto_picks_fp16_and_pinned_copies_on_cuda(cuda_present):
    placement = Placement.resolve("auto", "auto")
    assert (placement.device, placement.precision) == ("cuda", "fp16")
    assert placement.pin_memory
    assert placement.dtype() is torch.float16


def test_auto_stays_float32_without_pinning_on_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    placement = Placement.resolve("auto", "auto")
    assert (placement.device, placement.precision, placement.pin_memory) == ("cpu", "fp32", False)
    assert isinstance(placement.autocast(), contextlib.nullcontext)


def test_a_cuda_copy_comes_from_pinned_memory_without_blocking():
    tensor = FakeTensor()
    Placement("cuda", "fp16").to_device(tensor)
    assert tensor.calls == ["pin_memory"]  # the pinned copy is the one sent
    pinned = FakeTensor(pinned=True)
    Placement("cuda", "fp16").to_device(pinned)
    assert pinned.calls == [("to", ("cuda",), {"non_blocking": True})]


def test_a_cpu_tensor_is_used_where_it_is():
    tensor = torch.ones(2, 3)
    assert Placement("cpu").to_device(tensor) is tensor


@pytest.mark.parametrize(
    ("precision", "dtype"), [("fp16", torch.float16), ("bf16", torch.bfloat16)]
)
def test_cuda_autocasts_to_the_chosen_half_precision(precision, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that it would disable it without CUDA
        cast = Placement("cuda", precision).autocast()
    assert (cast.device, cast.fast_dtype) == ("cuda", dtype)
    assert isinstance(Placement("cuda", "fp32").autocast(), contextlib.nullcontext)


def test_a_model_is_cast_to_half_only_on_cuda():
    model = FakeTensor()
    assert Placement("cpu").half_model(model) is model
    assert model.calls == []
    Placement("cuda", "bf16").half_model(model)
    assert model.calls == [("to", (torch.bfloat16,), {})]


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_half_precision_on_the_cpu_is_refused_with_the_way_out(precision):
    with pytest.raises(ValueError, match="needs a CUDA device.*use auto or fp32"):
        resolve_precision("cpu", precision)


def test_an_unknown_precision_names_the_choices():
    with pytest.raises(ValueError, match="auto, fp32, fp16, bf16"):
        resolve_precision("cuda", "int8")


def test_bf16_on_a_gpu_without_it_is_refused(cuda_present, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *_: "Tesla T4")
    with pytest.raises(DeviceUnavailable, match="Tesla T4 has no bfloat16.*use fp16"):
        resolve_precision("cuda", "bf16")
    assert resolve_precision("cuda", "fp32") == "fp32"


def test_the_registry_reads_the_precision_and_refuses_half_on_cpu():
    assert RegistryConfig.from_env({"MODERATION_PRECISION": " BF16 "}).precision == "bf16"
    assert RegistryConfig.from_env({}).precision == "auto"
    assert ModelRegistry(RegistryConfig(device="cpu")).placement == Placement("cpu", "fp32")
    with pytest.raises(ValueError, match="MODERATION_PRECISION=fp16 needs a CUDA device"):
        ModelRegistry(RegistryConfig(device="cpu", precision="fp16"))


class RecordingPlacement(Placement):
    """A CPU placement that counts the copies and autocast scopes the encoder asks for."""

    def __init__(self) -> None:
        super().__init__("cpu", "fp32")
        object.__setattr__(self, "log", [])

    def autocast(self):
        self.log.append("autocast")
        return contextlib.nullcontext()

    def to_device(self, tensor):
        self.log.append(("copy", tuple(tensor.shape)))
        return tensor


@pytest.mark.models
def test_clip_batches_go_through_the_placement_and_cpu_rows_are_unchanged(tiny_clip):
    from moderation.engine.models.clip import ClipEncoder

    pictures = [Image.new("RGB", (60 + i, 40), (40 * i, 90, 200 - 30 * i)) for i in range(5)]
    encoder = ClipEncoder(batch_size=2, placement=RecordingPlacement())
    rows = encoder.encode_images(pictures)
    size = tuple(encoder.preprocess(pictures[:1]).shape[1:])
    assert [entry for entry in encoder.placement.log if entry != "autocast"] == [
        ("copy", (2, *size)),
        ("copy", (2, *size)),
        ("copy", (1, *size)),
    ]
    assert encoder.placement.log.count("autocast") == 3
    # The pipelined loop gives the rows of one pass per batch on the default CPU placement.
    one_by_one = np.concatenate(
        [tiny_clip.encode_pixels(tiny_clip.preprocess(pictures[i : i + 2])) for i in (0, 2, 4)]
    )
    np.testing.assert_allclose(rows, one_by_one, atol=1e-6)
    np.testing.assert_allclose(tiny_clip.encode_images(pictures), one_by_one, atol=1e-6)
    assert not tiny_clip.preprocess(pictures[:1]).is_pinned()


@pytest.mark.models
def test_nudenet_on_cuda_asks_onnxruntime_for_the_cuda_provider(monkeypatch, nudenet_scorer):
    import onnxruntime

    from moderation.engine.models import nudenet

    asked, real = [], onnxruntime.InferenceSession

    def session(path, providers=None, **kwargs):
        asked.append(providers)
        return real(path, providers=["CPUExecutionProvider"], **kwargs)  # no GPU here

    monkeypatch.setattr(onnxruntime, "InferenceSession", session)
    on_cuda = nudenet.NudeNetScorer(device="cuda")
    assert asked == [["CUDAExecutionProvider", "CPUExecutionProvider"]]
    image = Image.linear_gradient("L").convert("RGB").resize((200, 160))
    assert on_cuda.score([image]) == nudenet_scorer.score([image])


def test_the_registry_sets_torch_threads_when_asked():
    before = torch.get_num_threads()
    assert RegistryConfig.from_env({"MODERATION_TORCH_THREADS": "1"}).torch_threads == 1
    try:
        ModelRegistry(RegistryConfig(device="cpu", torch_threads=1))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="MODERATION_TORCH_THREADS must be at least 1"):
        ModelRegistry(RegistryConfig(device="cpu", torch_threads=0))


def test_the_registry_keeps_numpys_blas_to_one_thread_unless_told():
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads() -> set[int]:
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    assert RegistryConfig.from_env({}).blas_threads == 1
    assert RegistryConfig.from_env({"MODERATION_BLAS_THREADS": "2"}).blas_threads == 2
    with threadpool_limits(limits=2, user_api="blas"):  # restored afterwards
        ModelRegistry(RegistryConfig(device="cpu"))
        assert blas_threads() == {1}
        ModelRegistry(RegistryConfig(device="cpu", blas_threads=2))
        if (os.cpu_count() or 1) >= 2:  # OpenBLAS runs at most one thread per core
            assert blas_threads() == {2}
    with pytest.raises(ValueError, match="MODERATION_BLAS_THREADS must be at least 1"):
        ModelRegistry(RegistryConfig(device="cpu", blas_threads=0))
