"""The shipped category catalogue and its strict loader."""

import copy

import pytest
import yaml

from moderation.engine.catalogue import DEFAULT_PATH, load_catalogue, parse_catalogue
from moderation.engine.errors import BundleError, CatalogueError

REQUIRED = {"sexual", "sexual/minors", "nudity", "violence", "gore", "hate", "self-harm",
            "weapons", "drugs"}  # fmt: skip


def test_shipped_catalogue_loads_with_every_required_category():
    catalogue = load_catalogue()
    assert set(catalogue.ids()) >= REQUIRED
    assert load_catalogue() is catalogue


def test_every_prompt_category_has_8_to_15_examples():
    examples = load_catalogue().prompt_examples()
    assert set(examples) >= REQUIRED
    assert all(8 <= len(v) <= 15 for v in examples.values())


def test_outputs_feed_bundles():
    outputs = load_catalogue().category_outputs(["nudity"])["nudity"]
    assert "nudenet.FEMALE_BREAST_EXPOSED" in outputs.image
    assert outputs.prompt == ("text.nudity",)


RAW = yaml.safe_load(DEFAULT_PATH.read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["categories"][0].pop("outputs"), r"categories\[0\]: missing field 'outputs'"),
        (lambda d: d["categories"][1].update(colour="red"), r"categories\[1\]: unknown field"),
        (
            lambda d: d["categories"][2]["outputs"]["image"].append("nudenet"),
            r"categories\[2\]\.outputs\.image\[6\]",
        ),
        (
            lambda d: d["categories"][0].update(review_at=0.9),
            r"categories\[0\]: review_at 0.9 is above",
        ),
        (
            lambda d: d["categories"][3].update(prompt_examples=["one"]),
            r"categories\[3\]\.prompt_examples: 1 examples",
        ),
        (
            lambda d: d["categories"][4].update(id="sexual"),
            r"categories\[4\]\.id: duplicate id 'sexual'",
        ),
    ],
)
def test_malformed_catalogue_names_the_path(mutate, message):
    data = copy.deepcopy(RAW)
    mutate(data)
    with pytest.raises(BundleError, match=message):
        parse_catalogue(data)


def test_unreadable_catalogue_file_is_a_catalogue_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("spec: '1'\ncategories: [{id: x}]\n")
    with pytest.raises(CatalogueError, match=r"categories\[0\]: missing field"):
        load_catalogue(path)
