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
