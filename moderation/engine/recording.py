"""Model outputs computed once, judged twice: a recording provider and a replaying one.

Shadow mode judges a request with the enforced bundle and then with a candidate. The
enforced run goes through `RecordingModels`, which remembers every encoder vector and
scorer output per input (a prompt by its text, an image by the object, which the memo
keeps alive). The candidate's run goes through `ReplayingModels`, which answers from
those memos and calls the real models only for inputs or models the enforced run did
not need; those calls are counted (`extra_calls`, `extra_inputs`).

Both are ModelProviders (moderation/engine/providers.py); pins are the inner provider's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from moderation.engine.models.base import Modality, ModelPin


def _key(value: Any) -> Any:
    return value if isinstance(value, str) else ("object", id(value))


class Memo:
    """What one enforced evaluation computed: rows and outputs by (model, what, input).

    A memo made by `joined` stands for several (the stages of a staged evaluation, each
    recorded on its own batch): `parts` are the memos it joins, itself for a plain one.
    """

    def __init__(self) -> None:
        self.values: dict[tuple, Any] = {}
        self.kept: list[Any] = []  # the images keyed by id: alive as long as the memo
        self._parts: tuple[Memo, ...] = ()  # of a joined memo

    @property
    def parts(self) -> tuple[Memo, ...]:
        """The plain memos this one stands for (itself, unless joined).

        Not stored for a plain memo: a memo holding itself would be a reference cycle, left
        for the garbage collector on every request served while a shadow runs.
        """
        return self._parts or (self,)

    @classmethod
    def joined(cls, memos: Sequence[Memo]) -> Memo | None:
        """One memo answering for all of `memos` (they are shared, not copied); None if none."""
        parts = tuple({id(p): p for m in memos for p in m.parts}.values())
        if len(parts) <= 1:
            return parts[0] if parts else None
        memo = cls()
        memo._parts = parts
        return memo

    def put(self, model: tuple, inputs: Sequence, outputs: Sequence) -> None:
        for value, out in zip(inputs, outputs, strict=False):
            if not isinstance(value, str):
                self.kept.append(value)
            self.values[(*model, _key(value))] = out


class _Wrapped:
    """Delegates every attribute to the wrapped model (pin, dim, outputs, calibrated...)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Recording(_Wrapped):
    def __init__(self, inner: Any, memo: Memo, kind: str) -> None:
        super().__init__(inner)
        self._memo, self._kind = memo, kind

    def _record(self, what: str, call: Callable, inputs: Sequence):
        out = call(inputs)
        self._memo.put((self._kind, self._inner.pin.name, what), inputs, out)
        return out

    def encode(self, texts):
        return self._record("encode", self._inner.encode, texts)

    def encode_images(self, images):
        return self._record("images", self._inner.encode_images, images)

    def encode_texts(self, texts):
        return self._record("texts", self._inner.encode_texts, texts)

    def score(self, inputs):
        return self._record("score", self._inner.score, inputs)

    def read(self, images):
        return self._record("read", self._inner.read, images)


class RecordingModels:
    """A ModelProvider that remembers the outputs of `inner` in `memo`."""

    def __init__(self, inner: Any, memo: Memo | None = None) -> None:
        self.inner = inner
        self.memo = memo or Memo()

    def text_encoder(self):
        return _Recording(self.inner.text_encoder(), self.memo, "text")

    def image_encoder(self):
        return _Recording(self.inner.image_encoder(), self.memo, "image")

    def scorers(self, modality: Modality):
        return [
            _Recording(s, self.memo, f"scorer:{modality}") for s in self.inner.scorers(modality)
        ]

    def ocr(self):
        return _Recording(self.inner.ocr(), self.memo, "ocr")

    def pins(self) -> dict[str, ModelPin]:
        return self.inner.pins()

    def check_pins(self, required: Mapping[str, ModelPin]) -> None:
        self.inner.check_pins(required)


class _Replaying(_Wrapped):
    def __init__(self, inner: Any, owner: ReplayingModels, kind: str) -> None:
        super().__init__(inner)
        self._owner, self._kind = owner, kind

    def _replay(self, what: str, call: Callable, inputs: Sequence, *, rows: bool):
        model = (self._kind, self._inner.pin.name, what)
        found = [self._owner.lookup((*model, _key(v))) for v in inputs]
        missing = [i for i, f in enumerate(found) if f is None]
        if missing:
            fresh = call([inputs[i] for i in missing])
            self._owner.count_extra(len(missing))
            for i, out in zip(missing, fresh, strict=True):
                found[i] = out
        self._owner.count_replayed(len(inputs) - len(missing))
        if rows:
            return np.stack([np.asarray(f) for f in found]) if found else np.zeros((0, 0))
        return list(found)

    def encode(self, texts):
        return self._replay("encode", self._inner.encode, texts, rows=True)

    def encode_images(self, images):
        return self._replay("images", self._inner.encode_images, images, rows=True)

    def encode_texts(self, texts):
        return self._replay("texts", self._inner.encode_texts, texts, rows=True)

    def score(self, inputs):
        return self._replay("score", self._inner.score, inputs, rows=False)

    def read(self, images):
        return self._replay("read", self._inner.read, images, rows=False)


class ReplayingModels:
    """A ModelProvider answering from memos of enforced runs; `inner` for what is missing."""

    def __init__(self, inner: Any, memos: Sequence[Memo]) -> None:
        self.inner = inner
        self.memos = list({id(p): p for m in memos for p in m.parts}.values())
        # One dict for every memo: a lookup costs the same for one request or a thousand.
        self._values: dict[tuple, Any] = {}
        for memo in self.memos:
            self._values.update(memo.values)
        self.extra_calls = 0
        self.extra_inputs = 0
        self.replayed = 0
        self._lock = threading.Lock()

    def lookup(self, key: tuple) -> Any:
        return self._values.get(key)

    def count_extra(self, inputs: int) -> None:
        with self._lock:
            self.extra_calls += 1
            self.extra_inputs += inputs

    def count_replayed(self, inputs: int) -> None:
        with self._lock:
            self.replayed += inputs

    def text_encoder(self):
        return _Replaying(self.inner.text_encoder(), self, "text")

    def image_encoder(self):
        return _Replaying(self.inner.image_encoder(), self, "image")

    def scorers(self, modality: Modality):
        return [_Replaying(s, self, f"scorer:{modality}") for s in self.inner.scorers(modality)]

    def ocr(self):
        return _Replaying(self.inner.ocr(), self, "ocr")

    def pins(self) -> dict[str, ModelPin]:
        return self.inner.pins()

    def check_pins(self, required: Mapping[str, ModelPin]) -> None:
        self.inner.check_pins(required)
