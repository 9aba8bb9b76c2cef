"""The vector cache: a rebuild encodes only new inputs, and a new model misses everything."""

import numpy as np
import pytest

from kernel.vectors import text_vectors
from moderation.engine.models.base import ModelPin

pytestmark = pytest.mark.django_db


class CountingEncoder:
    dim = 3

    def __init__(self, sha="a" * 64):
        self.pin = ModelPin("fake", "fake 1", sha)
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen.extend(texts)
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_second_build_encodes_only_the_new_phrase():
    encoder = CountingEncoder()
    first = text_vectors(encoder, ["a knife", "a gun"])
    second = text_vectors(encoder, ["a gun", "a knife", "a sword!"])
    assert encoder.seen == ["a knife", "a gun", "a sword!"]
    np.testing.assert_array_equal(second[:2], first[::-1])
    assert second[2, 0] == len("a sword!")


def test_another_model_misses_the_cache():
    text_vectors(CountingEncoder(), ["a knife"])
    other = CountingEncoder(sha="b" * 64)
    text_vectors(other, ["a knife"])
    assert other.seen == ["a knife"]


def test_empty_input_gives_an_empty_matrix():
    assert text_vectors(CountingEncoder(), []).shape == (0, 3)
