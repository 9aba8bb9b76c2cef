"""Choosing where models run: CUDA when present, CPU otherwise."""

from __future__ import annotations

DEVICE_CHOICES = ("auto", "cpu", "cuda")


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


def describe_device(device: str) -> dict[str, object]:
    """Return what a status page needs to say about a resolved device."""
    import onnxruntime
    import torch

    info: dict[str, object] = {
        "device": device,
        "fp16": device == "cuda",
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "torch_threads": torch.get_num_threads(),
        "onnxruntime_providers": onnxruntime.get_available_providers(),
    }
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
