"""Choosing where models run and in which precision: CUDA when present, CPU otherwise.

On CUDA the torch image and text models run under autocast in half precision (fp16 by
default, bf16 on request) and their inputs are copied from pinned host memory with
non_blocking=True, so a copy overlaps the work already queued on the GPU. On CPU
everything stays float32 and tensors are used where they are: CPU results never change
with these settings.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

DEVICE_CHOICES = ("auto", "cpu", "cuda")
PRECISION_CHOICES = ("auto", "fp32", "fp16", "bf16")


class DeviceUnavailable(RuntimeError):
    """The configured device does not exist in this process."""


def resolve_device(device: str) -> str:
    """Return "cuda" or "cpu" for a configured "auto", "cpu" or "cuda"."""
    import torch

    if device not in DEVICE_CHOICES:
        raise ValueError(
            f"device {device!r} is not one of {', '.join(DEVICE_CHOICES)}; "
            "set MODERATION_DEVICE to auto, cpu or cuda"
        )
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailable(
            "MODERATION_DEVICE is cuda but torch sees no CUDA device in this process "
            f"(torch {torch.__version__}); use auto or cpu, or fix the driver/container"
        )
    return device


def resolve_precision(device: str, precision: str = "auto") -> str:
    """Return "fp32", "fp16" or "bf16" for a resolved device and a configured precision.

    "auto" is fp16 on CUDA and fp32 on CPU. Half precision is refused on CPU (torch's
    CPU kernels are slower in it, and CPU scores must stay those of float32), and bf16
    on a GPU that lacks it.
    """
    if precision not in PRECISION_CHOICES:
        raise ValueError(
            f"precision {precision!r} is not one of {', '.join(PRECISION_CHOICES)}; "
            "set MODERATION_PRECISION to auto, fp32, fp16 or bf16"
        )
    if precision == "auto":
        return "fp16" if device == "cuda" else "fp32"
    if precision != "fp32" and device != "cuda":
        raise ValueError(
            f"MODERATION_PRECISION={precision} needs a CUDA device, and this process runs "
            "on the CPU; use auto or fp32 there"
        )
    if precision == "bf16":
        import torch

        if not torch.cuda.is_bf16_supported():
            raise DeviceUnavailable(
                f"MODERATION_PRECISION=bf16 but {torch.cuda.get_device_name(0)} has no "
                "bfloat16 support; use fp16 (or auto)"
            )
    return precision


@dataclass(frozen=True)
class Placement:
    """Where a torch model runs and how its inputs get there."""

    device: str = "cpu"  # resolved: "cpu" or "cuda"
    precision: str = "fp32"  # resolved: "fp32", "fp16" or "bf16"

    @classmethod
    def resolve(cls, device: str = "auto", precision: str = "auto") -> Placement:
        """The placement of a configured device and precision (see resolve_*)."""
        resolved = resolve_device(device)
        return cls(resolved, resolve_precision(resolved, precision))

    @property
    def cuda(self) -> bool:
        return self.device == "cuda"

    @property
    def pin_memory(self) -> bool:
        """Host tensors are pinned before a copy (only CUDA copies gain from it)."""
        return self.cuda

    def dtype(self) -> Any:
        """The torch dtype models compute in (autocast's, or float32)."""
        import torch

        return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[
            self.precision
        ]

    def autocast(self) -> contextlib.AbstractContextManager:
        """Autocast to the half precision on CUDA; nothing on CPU or in fp32."""
        if not self.cuda or self.precision == "fp32":
            return contextlib.nullcontext()
        import torch

        return torch.autocast("cuda", dtype=self.dtype())

    def to_device(self, tensor: Any) -> Any:
        """`tensor` on this device: on CUDA from pinned memory without blocking the host."""
        if not self.cuda:
            return tensor.to(self.device)
        if not tensor.is_pinned():
            tensor = tensor.pin_memory()
        return tensor.to(self.device, non_blocking=True)

    def half_model(self, model: Any) -> Any:
        """`model` cast to the half precision when this placement uses one (for models
        run without autocast, such as sentence-transformers'); unchanged otherwise."""
        if self.cuda and self.precision != "fp32":
            return model.to(self.dtype())
        return model


def describe_device(device: str, precision: str | None = None) -> dict[str, object]:
    """Return what a status page needs to say about a resolved device and precision."""
    import onnxruntime
    import torch

    precision = precision or resolve_precision(device)
    info: dict[str, object] = {
        "device": device,
        "precision": precision,
        "fp16": precision == "fp16",
        "pinned_transfers": device == "cuda",
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "torch_threads": torch.get_num_threads(),
        "onnxruntime_providers": onnxruntime.get_available_providers(),
    }
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
