"""The packaged MiniLM sentence encoder and the text category scorer built on it."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.engine.models.base import ModelPin, TextEncoder
from moderation.engine.models.sentence import minilm_pin
from moderation.engine.models.text_categories import TextCategoryScorer, text_category_pin

pytestmark = pytest.mark.models

EXAMPLES = {
    "violence": ["a man stabbing someone with a knife", "a brutal street fight with blood"],
    "drugs": ["snorting cocaine at a party", "a syringe full of heroin"],
}


def test_encoder_returns_normalised_384_float32_rows(minilm):
    vectors = minilm.encode(["a red bicycle", "une maison bleue", "🙂"])
    assert isinstance(minilm, TextEncoder)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_encoder_is_deterministic_and_batch_independent(minilm):
    alone = minilm.encode(["a quiet lake at dawn"])
    batched = minilm.encode(["something else entirely", "a quiet lake at dawn"])
    np.testing.assert_allclose(alone[0], batched[1], atol=1e-5)
    np.testing.assert_array_equal(alone, minilm.encode(["a quiet lake at dawn"]))


def test_empty_input_gives_an_empty_matrix(minilm):
    assert minilm.encode([]).shape == (0, 384)


def test_a_bare_string_is_refused(minilm):
    with pytest.raises(TypeError, match="wrap it"):
        minilm.encode("one sentence")


def test_pin_hashes_the_packaged_weights_and_is_stable(minilm):
    assert minilm.pin == minilm_pin()
    assert minilm.pin.name == "minilm"
    assert len(minilm.pin.sha256) == 64
    assert "all-MiniLM-L6-v2" in minilm.pin.version


def test_a_close_paraphrase_scores_higher_than_an_unrelated_prompt(minilm):
    scorer = TextCategoryScorer(minilm, EXAMPLES)
    close, unrelated = scorer.score(["someone stabbed a man with a knife", "a bowl of fresh fruit"])
    assert close["text.violence"] > unrelated["text.violence"] + 0.3
    assert close["text.violence"] > close["text.drugs"]
    assert set(close) == set(scorer.outputs) == {"text.violence", "text.drugs"}
    assert all(0.0 <= value <= 1.0 for row in (close, unrelated) for value in row.values())


def test_text_pin_changes_with_the_phrases_not_with_dict_order(minilm):
    reordered = dict(reversed(list(EXAMPLES.items())))
    edited = {**EXAMPLES, "drugs": ["smoking crack"]}
    base = text_category_pin(minilm.pin, EXAMPLES)
    assert base == text_category_pin(minilm.pin, reordered)
    assert base.sha256 != text_category_pin(minilm.pin, edited).sha256
    other_encoder = ModelPin("minilm", "other", "0" * 64)
    assert base.sha256 != text_category_pin(other_encoder, EXAMPLES).sha256
    assert TextCategoryScorer(minilm, EXAMPLES).pin == base


@pytest.mark.parametrize(
    ("examples", "message"),
    [({}, "at least one"), ({"hate": []}, "non-empty list"), ({"hate": ["ok", " "]}, "empty")],
)
def test_bad_examples_are_refused(minilm, examples, message):
    with pytest.raises(ValueError, match=message):
        TextCategoryScorer(minilm, examples)


def test_the_same_texts_twice_in_a_row_run_the_model_once(minilm, monkeypatch):
    # One evaluation batch asks for its prompts twice: embedding rules, then text categories.
    calls = []
    run_model = minilm._model.encode
    monkeypatch.setattr(
        minilm._model, "encode", lambda texts, **kw: calls.append(texts) or run_model(texts, **kw)
    )
    scorer = TextCategoryScorer(minilm, EXAMPLES)
    calls.clear()
    prompts = ["a brutal street fight", "a bowl of fruit"]
    first = minilm.encode(prompts)
    scores = scorer.score(prompts)
    assert calls == [prompts]
    assert scores[0]["text.violence"] > scores[1]["text.violence"]

    first[:] = 0  # a caller's changes never reach the next caller
    np.testing.assert_allclose(np.linalg.norm(minilm.encode(prompts), axis=1), 1.0, atol=1e-5)
    minilm.encode(["a bowl of fruit", "a brutal street fight"])  # other texts: the model runs
    assert len(calls) == 2
