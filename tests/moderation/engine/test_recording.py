"""Recording and replaying providers: model outputs of the enforced run reused by the shadow."""

from __future__ import annotations

import gc
import weakref

import numpy as np
from PIL import Image

from moderation.engine.models.base import ModelPin
from moderation.engine.recording import Memo, RecordingModels, ReplayingModels


class CountingText:
    pin = ModelPin("minilm", "minilm 1", "0" * 64)
    dim = 2

    def __init__(self):
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


class CountingScorer:
    pin = ModelPin("opennsfw", "opennsfw 1", "1" * 64)
    modality = "image"
    outputs = ("opennsfw.nsfw",)

    def __init__(self):
        self.calls: list[int] = []

    def score(self, inputs):
        self.calls.append(len(inputs))
        return [{"opennsfw.nsfw": im.width / 100} for im in inputs]


class Models:
    def __init__(self):
        self.text, self.scorer = CountingText(), CountingScorer()

    def text_encoder(self):
        return self.text

    def image_encoder(self):
        raise AssertionError("not used")

    def scorers(self, modality):
        return [self.scorer] if modality == "image" else []

    def pins(self):
        return {"minilm": self.text.pin}

    def check_pins(self, required):
        pass


def test_the_replay_answers_recorded_inputs_and_calls_the_model_for_the_rest_only():
    models = Models()
    recording = RecordingModels(models)
    enforced = recording.text_encoder().encode(["a", "bbb"])
    replay = ReplayingModels(models, [recording.memo])

    rows = replay.text_encoder().encode(["bbb", "cc", "a"])

    assert models.text.calls == [["a", "bbb"], ["cc"]]
    np.testing.assert_array_equal(rows, [[3, 1], [2, 1], [1, 1]])
    np.testing.assert_array_equal(rows[[2, 0]], enforced)
    assert (replay.extra_calls, replay.extra_inputs, replay.replayed) == (1, 1, 2)
    assert replay.text_encoder().dim == 2  # attributes are the model's


def test_scorer_outputs_are_replayed_per_image_object():
    models = Models()
    recording = RecordingModels(models)
    seen, other = Image.new("RGB", (40, 10)), Image.new("RGB", (40, 10))
    [scorer] = recording.scorers("image")
    scorer.score([seen])
    replay = ReplayingModels(models, [recording.memo])

    [again] = replay.scorers("image")
    out = again.score([seen, other])

    assert out == [{"opennsfw.nsfw": 0.4}, {"opennsfw.nsfw": 0.4}]
    assert models.scorer.calls == [1, 1]  # the equal-looking other image is scored anew
    assert again.outputs == ("opennsfw.nsfw",)
    assert (replay.extra_calls, replay.replayed) == (1, 1)


def test_nothing_recorded_calls_the_models_and_counts_it():
    models = Models()
    replay = ReplayingModels(models, [])
    replay.text_encoder().encode(["x"])
    assert (replay.extra_calls, replay.extra_inputs, replay.replayed) == (1, 1, 0)


def test_a_joined_memo_answers_for_the_stage_batches_it_joins():
    models = Models()
    prompts, images = RecordingModels(models), RecordingModels(models)
    prompts.text_encoder().encode(["a"])
    seen = Image.new("RGB", (30, 10))
    images.scorers("image")[0].score([seen])
    joined = Memo.joined([prompts.memo, images.memo])
    replay = ReplayingModels(models, [joined, Memo.joined([prompts.memo])])

    replay.text_encoder().encode(["a"])
    replay.scorers("image")[0].score([seen])

    assert (replay.extra_calls, replay.replayed) == (0, 2)
    assert Memo.joined([prompts.memo]) is prompts.memo
    assert Memo.joined([]) is None
    assert len(replay.memos) == 2  # each recorded batch once


def test_a_memo_is_freed_as_soon_as_its_request_is_done():
    # One memo per request while a shadow runs: a reference cycle would leave each to the
    # garbage collector, whose passes the serving threads then pay for.
    memo = RecordingModels(Models()).memo
    ref = weakref.ref(memo)
    gc.disable()
    try:
        del memo
        assert ref() is None
    finally:
        gc.enable()
