"""A stage waits for company only while inputs arrive closer together than its wait."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from moderation.fleet.batching import StageSettings, _Stage

WAIT_MS = 400.0


def stage(max_batch: int = 8) -> _Stage:
    return _Stage("prompt", StageSettings(max_batch, WAIT_MS), batcher=None)


def job(name: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, enqueued=0.0)


def timed_take(s: _Stage) -> tuple[list[str], float]:
    start = time.monotonic()
    batch = s._take()
    return [j.name for j in batch], time.monotonic() - start


def test_the_first_arrivals_wait_for_company_as_under_load():
    s = stage()
    s.put([job("a")])
    threading.Timer(0.05, s.put, args=([job("b")],)).start()
    names, took = timed_take(s)
    assert names == ["a", "b"]
    assert took >= WAIT_MS / 1000 * 0.9  # it waited its max_wait_ms for more


def test_arrivals_further_apart_than_the_wait_are_sent_at_once():
    s = stage()
    s.put([job("a")])
    s._take()
    s.last_arrival -= 2 * WAIT_MS / 1000  # the last input came well over the wait ago
    s.put([job("b")])
    names, took = timed_take(s)
    assert names == ["b"]
    assert took < WAIT_MS / 1000 / 2


def test_close_arrivals_keep_the_wait_and_a_full_batch_goes_at_once():
    s = stage(max_batch=3)
    for name in "abc":
        s.put([job(name)])
    assert s.company_expected(WAIT_MS / 1000)
    names, took = timed_take(s)
    assert names == ["a", "b", "c"]
    assert took < WAIT_MS / 1000 / 2


def test_inputs_handed_on_together_are_one_arrival():
    s = stage()
    s.put([job("a"), job("b"), job("c")])
    assert (s.gap, len(s.queue)) == (None, 3)
    s.put([job("d")])
    assert s.gap is not None
    assert {j.enqueued for j in list(s.queue)[:3]} == {s.queue[0].enqueued}
