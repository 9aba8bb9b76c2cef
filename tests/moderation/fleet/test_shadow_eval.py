"""Shadow evaluation: sampling at the rate, counters, flips as records, never into serving."""

from __future__ import annotations

import json
import random

import numpy as np

from moderation.engine.bundle import Bundle, KeywordSet, PolicyInfo
from moderation.engine.compiled import compile_bundle
from moderation.engine.decision import Action
from moderation.engine.inputs import Item
from moderation.fleet.agent import Shadow
from moderation.fleet.shadow import ShadowEvaluator, differing_rules

from .conftest import FakeModels, make_bundle, make_pin
from .decision_helpers import Clock, active, make_log, served


def candidate(version: int = 4, rate: float = 1.0) -> Shadow:
    """A shadow that blocks 'sex' like the enforced bundle's kw-block, and also 'gore'."""
    bundle = Bundle.create(
        policy=PolicyInfo("acme", "default", "Default policy", version, version),
        pins={"minilm": make_pin("minilm")},
        keyword_sets=(KeywordSet("kw-block", "Adult and gore", Action.BLOCK, ("sex", "gore")),),
    )
    return Shadow(compile_bundle(bundle), rate, 0.0)


class StubAgent:
    """What the evaluator reads of an agent: its shadow, models and observer list."""

    def __init__(self, shadow: Shadow | None) -> None:
        self.shadow = shadow
        self.models = FakeModels()
        self.observers: list = []
        self.shadow_eval = None


def evaluator(shadow, *, log=None, **options):
    options.setdefault("rng", random.Random(3))
    clock = options.pop("clock", Clock())
    log = log if log is not None else make_log(clock=clock)
    return ShadowEvaluator(StubAgent(shadow), log, clock=clock, **options).attach(), log


def batches(log):
    return [json.loads(b.body) for b in log.build_batches(final=True)]


def test_counts_enforced_by_shadow_action_and_the_rules_that_differ():
    shadow_eval, log = evaluator(candidate())
    enforced = active(version=3)  # kw-block blocks 'sex', kw-review reviews 'gore'
    shadow_eval.observe([served(enforced, "a cat"), served(enforced, "some gore"),
                         served(enforced, "sex")])  # fmt: skip
    shadow_eval.drain()

    [batch] = batches(log)
    rows = {(c["enforced_action"], c["shadow_action"], c["rule_id"]): c["count"]
            for c in batch["shadow_counts"]}  # fmt: skip
    assert rows == {
        ("allow", "allow", ""): 1,
        ("block", "block", ""): 1,
        ("review", "block", ""): 1,
        # On 'gore', kw-review fired only in the enforced version, kw-block only in the shadow.
        ("review", "block", "kw-block"): 1,
        ("review", "block", "kw-review"): 1,
    }
    assert {(c["version"], c["shadow_version"]) for c in batch["shadow_counts"]} == {(3, 4)}
    assert shadow_eval.stats()["shadowed"] == 3


def test_a_flip_becomes_a_shadow_flip_record_with_what_the_shadow_decided():
    shadow_eval, log = evaluator(candidate())
    shadow_eval.observe([served(active(version=3), "some gore", rid="r-1")])
    shadow_eval.drain()

    [record] = batches(log)[0]["records"]
    assert record["reasons"] == ["shadow_flip"]
    assert (record["request_id"], record["action"], record["version"]) == ("r-1", "review", 3)
    shadow = shadow_eval.agent.shadow
    assert record["shadow"]["version"] == 4
    assert record["shadow"]["bundle_sha256"] == shadow.sha256
    assert record["shadow"]["action"] == "block"
    assert {r["rule_id"] for r in record["shadow"]["rules"] if r["fired"]} == {"kw-block"}


def test_flip_records_are_capped_per_minute_but_all_are_counted():
    clock = Clock()
    shadow_eval, log = evaluator(candidate(), flips_per_minute=2, clock=clock)
    enforced = active(version=3)
    shadow_eval.observe([served(enforced, "gore") for _ in range(5)])
    shadow_eval.drain()
    clock.now += 60
    shadow_eval.observe([served(enforced, "gore")])
    shadow_eval.drain()

    sent = batches(log)
    records = [r for b in sent for r in b["records"]]
    flips = sum(c["count"] for b in sent for c in b["shadow_counts"]
                if c["rule_id"] == "" and c["shadow_action"] == "block")  # fmt: skip
    assert len(records) == 3  # two in the first minute, one in the next
    assert flips == 6
    assert shadow_eval.stats()["flips"] == 6


def test_the_rate_samples_that_share_of_requests():
    shadow_eval, log = evaluator(candidate(rate=0.1), max_queue=100_000)
    enforced = active(version=3)
    one = served(enforced, "a cat")
    for _ in range(50):
        shadow_eval.observe([one] * 100)
    assert 400 < shadow_eval.sampled < 600


def test_requests_one_at_a_time_are_sampled_at_the_rate_too():
    shadow_eval, _ = evaluator(candidate(rate=0.1), max_queue=100_000)
    shadow = shadow_eval.agent.shadow
    picked = [shadow_eval.pick(shadow, 1) is not None for _ in range(5000)]
    assert 400 < sum(picked) < 600
    # Gaps are drawn afresh for another shadow (a new rate): everything at 100%.
    assert all(shadow_eval.pick(candidate(rate=1.0), 1) == range(1) for _ in range(50))


def test_no_shadow_nothing_is_queued():
    shadow_eval, _ = evaluator(None)
    shadow_eval.observe([served(active(), "a cat")])
    assert shadow_eval.stats()["queued"] == 0


def test_a_full_queue_is_counted_and_never_raised():
    shadow_eval, _ = evaluator(candidate(), max_queue=1)
    enforced = active(version=3)
    shadow_eval.observe([served(enforced, "a"), served(enforced, "b")])
    shadow_eval.observe([served(enforced, "c")])

    assert shadow_eval.stats()["queue_full"] == 1
    assert shadow_eval.sampled == 2


def test_a_failing_shadow_evaluation_is_counted_not_raised(monkeypatch):
    shadow_eval, log = evaluator(candidate())

    def broken(*args, **kwargs):
        raise RuntimeError("cuda out of memory")

    monkeypatch.setattr("moderation.engine.delta.coerce_item", broken)
    shadow_eval.observe([served(active(version=3), "a cat")])
    shadow_eval.drain()

    assert shadow_eval.stats()["failures"] == 1
    assert "cuda out of memory" in shadow_eval.stats()["last_error"]
    assert batches(log) == []


def test_differing_rules_are_fired_in_one_only_or_with_another_action():
    enforced = served(active(version=3), "sex and gore").decision
    shadow = served(active(version=4), "sex and gore").decision
    assert differing_rules(enforced, shadow) == []


def test_checks_through_the_agent_are_shadowed_by_its_verified_shadow(fleet, make_agent):
    fleet.publish(make_bundle(5))
    shadowing = Bundle.create(
        policy=PolicyInfo("acme", "default", "Default policy", 6, 6),
        pins={"minilm": make_pin("minilm")},
        keyword_sets=(KeywordSet("kw-v6", "Adult words", Action.REVIEW, ("sex",)),),
    )
    fleet.publish_version(shadowing, rate=1.0)
    agent = make_agent()
    agent.poll_once()
    log = make_log()
    shadow_eval = ShadowEvaluator(agent, log).attach()

    assert agent.check(prompt="sex", request_id="q").action is Action.BLOCK
    shadow_eval.drain()

    [batch] = batches(log)
    assert {(c["enforced_action"], c["shadow_action"], c["rule_id"]) for c in
            batch["shadow_counts"]} == {("block", "review", ""), ("block", "review", "kw-v5"),
                                        ("block", "review", "kw-v6")}  # fmt: skip
    assert batch["records"][0]["shadow"]["version"] == 6
    assert agent.health()["shadow_eval"]["shadowed"] == 1


def test_the_thread_judges_queued_jobs_together_and_stop_drains_them():
    clock = Clock()
    shadow_eval, log = evaluator(candidate(), clock=clock)
    enforced = active(version=3)
    shadow_eval.observe([served(enforced, "gore", rid="first")])
    clock.now += 1.5
    shadow_eval.observe([served(enforced, "gore", rid="second"), served(enforced, "a cat")])
    shadow_eval.start()
    shadow_eval.stop()

    assert shadow_eval.stats()["shadowed"] == 3
    assert shadow_eval.stats()["queued"] == 0
    records = {r["request_id"]: r["decided_at"] for r in batches(log)[0]["records"]}
    assert records == {"first": "2026-11-30T00:53:20.000Z", "second": "2026-11-30T00:53:21.500Z"}


def test_checks_record_model_outputs_only_while_a_shadow_is_evaluated(fleet, make_agent):
    fleet.publish(make_bundle(5))
    agent = make_agent()
    agent.poll_once()
    seen: list = []
    agent.observers.append(seen.extend)
    agent.check(prompt="a cat")
    fleet.publish_version(make_bundle(6), rate=1.0)
    agent.poll_once()
    agent.check(prompt="a cat")  # a shadow, but nothing evaluates it
    shadow_eval = ShadowEvaluator(agent, make_log()).attach()
    agent.check(prompt="a cat")
    shadow_eval.drain()

    assert [s.memo is not None for s in seen] == [False, False, True]
    stats = shadow_eval.stats()
    assert stats["extra_model_calls"] == stats["extra_model_inputs"] == 0


def embedding_bundle(version: int, threshold: float) -> Bundle:
    """A bundle whose one rule compares prompts to an example: it needs the text encoder."""
    from moderation.engine.bundle import EmbeddingSet

    vector = np.ones((1, 8), dtype=np.float32) / np.sqrt(8)
    return Bundle.create(
        policy=PolicyInfo("acme", "default", "Default policy", version, version),
        pins={"minilm": make_pin("minilm")},
        dims={"minilm": 8},
        embedding_sets=(
            EmbeddingSet("emb", "Like this", Action.REVIEW, threshold, "minilm", ("x",), vector),
        ),
    )


def test_the_shadow_reuses_the_enforced_runs_encoder_vectors(fleet, make_agent, models):
    fleet.publish(embedding_bundle(5, 0.5))
    fleet.publish_version(embedding_bundle(6, 0.99), rate=1.0)
    agent = make_agent()
    agent.poll_once()
    calls: list[list[str]] = []
    encode = models.text.encode
    models.text.encode = lambda texts: calls.append(list(texts)) or encode(texts)
    shadow_eval = ShadowEvaluator(agent, make_log()).attach()

    agent.check_batch([Item("a cat", None), Item("a dog", None)])
    shadow_eval.drain()

    assert calls == [["a cat", "a dog"]]  # the enforced run only
    stats = shadow_eval.stats()
    assert (stats["shadowed"], stats["replayed_inputs"], stats["extra_model_calls"]) == (2, 2, 0)


def test_kept_records_do_not_hold_the_recorded_model_outputs(fleet, make_agent):
    fleet.publish(make_bundle(5))
    fleet.publish_version(candidate(6).compiled.bundle, rate=1.0)
    agent = make_agent()
    agent.poll_once()
    log = make_log()
    log.attach(agent)
    shadow_eval = ShadowEvaluator(agent, log).attach()
    agent.check(prompt="gore", request_id="flip")
    shadow_eval.drain()

    assert [k.served.request_id for k in log._buffer] == ["flip"]
    assert all(k.served.memo is None for k in log._buffer)


def test_only_the_sampled_requests_record_model_outputs(fleet, make_agent):
    fleet.publish(make_bundle(5))
    fleet.publish_version(make_bundle(6), rate=0.5)
    agent = make_agent()
    agent.poll_once()
    seen: list = []
    agent.observers.append(seen.extend)
    shadow_eval = ShadowEvaluator(agent, make_log(), rng=random.Random(5)).attach()
    for i in range(40):
        agent.check(prompt="a cat", request_id=f"r{i}")
    recorded = [s.request_id for s in seen if s.memo is not None]
    shadow_eval.drain()

    # The sample is drawn before judging: what is not shadowed records nothing.
    assert 0 < len(recorded) < 40
    assert shadow_eval.stats()["shadowed"] == len(recorded)


def gore_bundle(version: int, action: Action) -> Bundle:
    return Bundle.create(
        policy=PolicyInfo("acme", "default", "Default policy", version, version),
        pins={"minilm": make_pin("minilm")},
        keyword_sets=(KeywordSet("kw-gore", "Gore", action, ("gore",)),),
    )


def test_a_candidate_that_only_relabels_is_counted_on_the_serving_thread(fleet, make_agent):
    fleet.publish(gore_bundle(5, Action.REVIEW))
    fleet.publish_version(gore_bundle(6, Action.BLOCK), rate=1.0)
    agent = make_agent()
    agent.poll_once()
    log = make_log()
    shadow_eval = ShadowEvaluator(agent, log).attach()
    agent.check(prompt="a cat", request_id="first")
    shadow_eval.drain()  # the thread makes the pair's plan: it runs no rule
    assert shadow_eval.stats()["rules_run"] == 0

    seen: list = []
    agent.observers.append(seen.extend)
    agent.check(prompt="some gore", request_id="flip")
    agent.check(prompt="a dog", request_id="same")

    # Counted without the thread, and no model outputs recorded for it.
    stats = shadow_eval.stats()
    assert (stats["shadowed"], stats["flips"], stats["queued"]) == (3, 1, 0)
    assert all(s.memo is None for s in seen)
    [batch] = batches(log)
    counts = {(c["enforced_action"], c["shadow_action"], c["rule_id"]): c["count"]
              for c in batch["shadow_counts"]}  # fmt: skip
    assert counts == {("allow", "allow", ""): 2, ("review", "block", ""): 1,
                      ("review", "block", "kw-gore"): 1}  # fmt: skip
    [record] = batch["records"]
    assert record["request_id"] == "flip"
    assert record["shadow"]["action"] == "block"
    assert [r["action"] for r in record["shadow"]["rules"]] == ["block"]
