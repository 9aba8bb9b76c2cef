"""Out of GPU memory: the batch is split and retried; one input that does not fit fails clearly."""

import pytest
import torch

from kernel.errors import ApplicationError
from moderation.services import scoring


def fake_evaluate(limit):
    calls = []

    def evaluate(bundle, items, models):
        calls.append(len(items))
        if len(items) > limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return [f"decision-{item}" for item in items]

    return evaluate, calls


def test_batch_is_halved_until_it_fits(monkeypatch):
    evaluate, calls = fake_evaluate(limit=2)
    monkeypatch.setattr(scoring, "evaluate_batch", evaluate)
    got = scoring.evaluate_split_on_oom("bundle", [1, 2, 3, 4, 5], registry=None)
    assert got == [f"decision-{i}" for i in (1, 2, 3, 4, 5)]
    assert calls[0] == 5


def test_single_input_that_does_not_fit_fails_with_advice(monkeypatch):
    evaluate, _ = fake_evaluate(limit=0)
    monkeypatch.setattr(scoring, "evaluate_batch", evaluate)
    with pytest.raises(ApplicationError, match="ran out of memory on a single input"):
        scoring.evaluate_split_on_oom("bundle", [1, 2], registry=None)
