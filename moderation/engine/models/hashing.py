"""Weight fingerprints for model pins, and the offline switch every adapter uses."""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

_CHUNK = 1 << 20
_cache: dict[tuple[str, int, int], str] = {}
_cache_lock = threading.Lock()


def force_offline() -> None:
    """Make Hugging Face libraries fail fast instead of retrying a hub for ~46 s."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def sha256_file(path: str | Path) -> str:
    """Return the hex sha256 of a file, hashed once per (path, size, mtime) per process."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with resolved.open("rb") as fp:
        for chunk in iter(lambda: fp.read(_CHUNK), b""):
            digest.update(chunk)
    value = digest.hexdigest()
    with _cache_lock:
        _cache[key] = value
    return value


def sha256_tree(folder: str | Path) -> str:
    """Return one sha256 over every file of a folder (relative names and contents, sorted)."""
    root = Path(folder).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sha256_parts((p.relative_to(root).as_posix(), sha256_file(p)) for p in files)


def sha256_parts(parts: Iterable[tuple[str, str]]) -> str:
    """Return a sha256 over (name, value) pairs in the given order, unambiguously framed."""
    digest = hashlib.sha256()
    for name, value in parts:
        for field in (name, value):
            encoded = field.encode("utf-8")
            digest.update(len(encoded).to_bytes(8, "big"))
            digest.update(encoded)
    return digest.hexdigest()


def sha256_path(path: str | Path) -> str:
    """Return the sha256 of a weights file, or of every file when given a folder."""
    return sha256_tree(path) if Path(path).is_dir() else sha256_file(path)


def sha256_state_dict(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Return a sha256 over a state dict's names, dtypes, shapes and raw bytes, sorted by name."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().to("cpu").contiguous()
        header = f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode()
        digest.update(len(header).to_bytes(8, "big"))
        digest.update(header)
        digest.update(tensor.reshape(-1).view(_uint8()).numpy().tobytes())
    return digest.hexdigest()


def _uint8():
    import torch

    return torch.uint8


@functools.lru_cache(maxsize=64)
def package_version(distribution: str) -> str:
    """Return an installed distribution's version, or "unknown" (read once per process)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"
