"""Encoding example phrases and images with a cache keyed by model and content."""

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

from kernel.models import VectorCacheEntry


def text_vectors(encoder, texts: Sequence[str]) -> np.ndarray:
    """(n, dim) float32 vectors of `texts`, encoding only those not cached for this encoder."""
    keys = [_sha256(t.encode("utf-8")) for t in texts]
    return _cached(
        encoder.pin.sha256,
        encoder.dim,
        keys,
        lambda missing: encoder.encode([texts[i] for i in missing]),
    )


def image_vectors(encoder, digests: Sequence[str], load: Callable[[int], object]) -> np.ndarray:
    """(n, dim) vectors of images known by sha256; `load(i)` gives image i only on a miss."""
    return _cached(
        encoder.pin.sha256,
        encoder.dim,
        list(digests),
        lambda missing: encoder.encode_images([load(i) for i in missing]),
    )


def _cached(model_sha256: str, dim: int, keys: list[str], encode) -> np.ndarray:
    out = np.zeros((len(keys), dim), dtype=np.float32)
    if not keys:
        return out
    found = {
        e.content_sha256: e
        for e in VectorCacheEntry.objects.filter(model_sha256=model_sha256, content_sha256__in=keys)
    }
    missing = [i for i, key in enumerate(keys) if key not in found or found[key].dim != dim]
    hits = set(range(len(keys))) - set(missing)
    for i in hits:
        out[i] = np.frombuffer(bytes(found[keys[i]].vector), dtype="<f4")
    if missing:
        fresh = np.asarray(encode(missing), dtype=np.float32)
        out[missing] = fresh
        VectorCacheEntry.objects.bulk_create(
            [
                VectorCacheEntry(
                    model_sha256=model_sha256,
                    content_sha256=keys[i],
                    dim=dim,
                    vector=fresh[n].astype("<f4").tobytes(),
                )
                for n, i in enumerate(missing)
            ],
            ignore_conflicts=True,  # a concurrent build may have cached the same input
        )
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
