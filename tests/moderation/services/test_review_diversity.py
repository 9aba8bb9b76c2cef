"""Informative order with diversity: near-duplicates of an item ahead are damped, not all first."""

from types import SimpleNamespace

import numpy as np
import pytest

from kernel import registry
from moderation.models import ReviewClaim, ReviewItem, ReviewQueue
from moderation.services.review import review_answer, review_claim, review_enqueue
from tests.moderation.production_factories import DecisionRecordFactory, ReviewQueueFactory
from tests.tenants.factories import UserFactory

pytestmark = pytest.mark.django_db

# Deciding score 0.5 at threshold 0.5: priority 1.0; 0.7 at 0.5: priority 0.8.
UNSURE = [
    {
        "rule_id": "violence:prompt",
        "action": "review",
        "score": 0.5,
        "threshold": 0.5,
        "fired": True,
    }
]
SURER = [
    {
        "rule_id": "violence:prompt",
        "action": "review",
        "score": 0.7,
        "threshold": 0.5,
        "fired": True,
    }
]


class WordEncoder:
    """A stand-in sentence encoder: one axis per first word, so prompts with the same first
    word have cosine 1 and others 0."""

    dim = 8
    pin = SimpleNamespace(sha256="word-encoder-for-tests")
    words = ["cat", "dog", "gun", "car", "sun", "sea", "sky", "owl"]

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i, self.words.index(text.split()[0])] = 1.0
        return out


@pytest.fixture
def informative(tenant):
    return ReviewQueueFactory(tenant=tenant, is_default=True, order=ReviewQueue.Order.INFORMATIVE)


def records(v1, prompts, rules=UNSURE, **fields):
    return [DecisionRecordFactory(version=v1, prompt=p, rules=rules, **fields) for p in prompts]


def priorities():
    return {i.record.prompt: i.priority for i in ReviewItem.objects.select_related("record")}


def test_a_burst_of_one_prompt_is_damped_so_a_different_one_comes_second(v1, informative):
    review_enqueue(records(v1, ["cat one", "cat two", "cat three"]), encoder=WordEncoder())
    review_enqueue(records(v1, ["dog one"], rules=SURER), encoder=WordEncoder())

    found = priorities()
    assert sorted(found["cat " + n] for n in ("one", "two", "three")) == pytest.approx(
        [1 / 3, 1 / 2, 1]
    )
    assert found["dog one"] == pytest.approx(0.8)  # nothing like it ahead: undamped
    reviewer = UserFactory()
    asked = [review_claim(informative, reviewer)]
    review_answer(ReviewClaim.objects.get(), reviewer, "block", [], 2.0)
    asked.append(review_claim(informative, reviewer))
    assert [i.record.prompt.split()[0] for i in asked] == ["cat", "dog"]


def test_a_near_duplicate_of_an_item_already_waiting_is_damped(v1, informative):
    review_enqueue(records(v1, ["gun a"]), encoder=WordEncoder())
    review_enqueue(records(v1, ["gun b", "car a"]), encoder=WordEncoder())
    found = priorities()
    assert found["gun a"] == pytest.approx(1.0)
    assert found["gun b"] == pytest.approx(0.5)
    assert found["car a"] == pytest.approx(1.0)


def test_the_same_image_is_a_near_duplicate_even_with_other_prompts(v1, informative):
    review_enqueue(
        records(v1, ["sun", "sea", "sky"], image_sha256="a" * 64)
        + records(v1, ["owl"], image_sha256="b" * 64),
        encoder=WordEncoder(),
    )
    found = priorities()
    assert sorted(found[p] for p in ("sun", "sea", "sky")) == pytest.approx([1 / 3, 1 / 2, 1])
    assert found["owl"] == pytest.approx(1.0)


def test_an_oldest_first_queue_keeps_its_priorities_and_needs_no_encoder(v1, tenant):
    ReviewQueueFactory(tenant=tenant, is_default=True, order=ReviewQueue.Order.OLDEST)

    class Refuses:
        def encode(self, texts):
            raise AssertionError("an oldest-first queue embeds nothing")

    review_enqueue(records(v1, ["cat one", "cat two"]), encoder=Refuses())
    assert set(priorities().values()) == {1.0}


@pytest.mark.models
def test_minilm_finds_a_reworded_prompt_close_and_another_topic_far(v1, informative):
    review_enqueue(
        records(v1, ["buy cheap pills online now", "buy cheap pills on the internet now"])
        + records(v1, ["a red bicycle"])
    )
    found = priorities()  # the two pill prompts: cosine 0.967; the bicycle: 0.04
    assert sorted(found[p] for p in found if "pills" in p) == pytest.approx([0.5, 1.0])
    assert found["a red bicycle"] == pytest.approx(1.0)
    assert registry.models().text_encoder().dim == 384
