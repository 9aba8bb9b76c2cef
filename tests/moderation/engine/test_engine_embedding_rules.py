"""Embedding rules: threshold, counter-example veto, nearest-example explanations."""

import numpy as np
import pytest

from moderation.engine.bundle import EmbeddingSet
from moderation.engine.decision import Action
from moderation.engine.embedding_rules import StackedEmbeddingSets, explain

E1, E2, E3 = np.eye(3, dtype=np.float32)


def unit(*xs):
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def make_set(threshold=0.8, counters=None, id="s"):
    counter_vecs = np.array(counters or [], dtype=np.float32).reshape(-1, 3)
    names = tuple(f"counter {i}" for i in range(len(counter_vecs)))
    return EmbeddingSet(id, id, Action.REVIEW, threshold, "minilm", ("example x", "example y"),
                        np.stack([E1, E2]), names, counter_vecs)  # fmt: skip


@pytest.mark.parametrize(
    ("prompt", "threshold", "fired"),
    [
        (unit(1, 0, 0), 0.8, True),  # score 1.0
        (unit(1, 1, 0), 0.7, True),  # score 0.7071 >= 0.7
        (unit(1, 1, 0), 0.71, False),  # score 0.7071 < 0.71
        (unit(0, 0, 1), 0.1, False),  # orthogonal: score 0
    ],
)
def test_fires_at_or_above_threshold(prompt, threshold, fired):
    [scores] = StackedEmbeddingSets([make_set(threshold)], 3).score(prompt[None, :])
    assert bool(scores.fired[0]) is fired


def test_score_is_the_best_cosine_and_names_the_nearest_example():
    es = make_set()
    [scores] = StackedEmbeddingSets([es], 3).score(unit(1, 2, 0)[None, :])
    assert scores.score[0] == pytest.approx(2 / np.sqrt(5))
    assert explain(es, scores, 0)["nearest_example"] == "example y"


@pytest.mark.parametrize(
    ("counter", "fired"),
    [
        ([unit(1, 0.1, 0)], False),  # counter-example closer than the example: veto
        ([unit(0, 0, 1)], True),  # counter-example far away
    ],
)
def test_counter_example_closer_than_example_vetoes(counter, fired):
    es = make_set(threshold=0.5, counters=counter)
    prompt = unit(1, 0.2, 0)[None, :]
    [scores] = StackedEmbeddingSets([es], 3).score(prompt)
    assert bool(scores.fired[0]) is fired
    explanation = explain(es, scores, 0)
    assert explanation["nearest_counter_example"] == "counter 0"
    assert explanation["vetoed_by_counter_example"] is (not fired)


def test_batch_and_several_sets_score_like_one_at_a_time():
    sets = [make_set(0.5, id="a"), make_set(0.9, counters=[unit(0, 1, 1)], id="b")]
    stacked = StackedEmbeddingSets(sets, 3)
    prompts = np.stack([unit(1, 0, 0), unit(0, 1, 1), unit(1, 1, 1)])
    batch = stacked.score(prompts)
    for row, prompt in enumerate(prompts):
        single = stacked.score(prompt[None, :])
        for k in range(len(sets)):
            assert single[k].score[0] == pytest.approx(batch[k].score[row])
            assert single[k].fired[0] == batch[k].fired[row]
    assert list(batch[1].fired) == [True, False, False]
