"""Text category scores: unrelated prompts score 0, paraphrases of an example score high."""

import pytest

from moderation.engine.catalogue import load_catalogue
from moderation.engine.models.text_categories import TextCategoryScorer

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def scorer(minilm):
    return TextCategoryScorer(minilm, load_catalogue().prompt_examples())


def test_an_unrelated_prompt_scores_zero_on_every_category(scorer):
    (scores,) = scorer.score(["a watercolour of a lighthouse at dawn"])
    assert max(scores.values()) < 0.1  # far below any sensible review threshold


def test_a_paraphrase_of_an_example_scores_high_on_its_category_only(scorer):
    (scores,) = scorer.score(["a man stabbing another man in a dark alley"])
    assert scores["text.violence"] > 0.4
    assert scores["text.violence"] == max(scores.values())
    assert scores["text.drugs"] < scores["text.violence"] / 2
