"""The decision log's serving side: sampling, per-minute counts, the bounded buffer, records."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random

import pytest
from PIL import Image

from moderation.engine.bundle import Sampling
from moderation.fleet.decision_records import MAX_THUMBNAIL_BYTES, Sampler, thumbnail_jpeg
from moderation.fleet.served import ServedBatch
from tests.images import png_bytes

from .conftest import make_bundle
from .decision_helpers import NO_AUDIT, Clock, active, make_log, served


def reasons_of(sampler, sampling, actions, minute=100):
    return [sampler.reasons(sampling, a, minute) for a in actions]


def test_every_review_is_kept_up_to_the_rate_then_again_next_minute():
    sampler, sampling = Sampler(random.Random(1)), Sampling(review_per_minute=3, audit_share=0.0)
    first = reasons_of(sampler, sampling, ["review"] * 5, minute=100)
    later = reasons_of(sampler, sampling, ["review"] * 2, minute=101)
    assert first == [("review",)] * 3 + [()] * 2
    assert later == [("review",)] * 2


def test_blocks_are_kept_only_when_the_policy_asks():
    on, off = Sampling(keep_blocks=True, audit_share=0.0), Sampling(audit_share=0.0)
    assert Sampler().reasons(on, "block", 1) == ("block",)
    assert Sampler().reasons(off, "block", 1) == ()
    assert Sampler().reasons(on, "flag", 1) == ()


def test_the_audit_share_is_drawn_for_every_action_alike_and_is_seeded():
    sampling = Sampling(review_per_minute=0, audit_share=0.2)
    draws = {
        action: reasons_of(Sampler(random.Random(42)), sampling, [action] * 5000)
        for action in ("allow", "review", "block")
    }
    shares = {a: sum("audit" in r for r in rs) / 5000 for a, rs in draws.items()}
    assert all(0.18 < share < 0.22 for share in shares.values()), shares
    # The same seed draws the same stratum whatever the actions: the draw ignores them.
    marks = {a: [("audit" in r) for r in rs] for a, rs in draws.items()}
    assert marks["allow"] == marks["review"] == marks["block"]


def test_a_review_can_be_kept_for_review_and_audit_at_once():
    reasons = Sampler(random.Random(0)).reasons(Sampling(audit_share=1.0), "review", 5)
    assert reasons == ("review", "audit")


@pytest.mark.parametrize("sampling", [None, Sampling(enabled=False, audit_share=1.0)])
def test_no_sampling_keeps_no_records_but_still_counts(sampling):
    log, act = make_log(), active(sampling)
    log.observe([served(act, "gore"), served(act, "sex"), served(act, "a cat")])
    (batch,) = log.build_batches(final=True)
    body = json.loads(batch.body)
    assert body["records"] == []
    totals = {(c["action"], c["rule_id"]): c["count"] for c in body["counts"]}
    assert totals == {("review", ""): 1, ("review", "kw-review"): 1, ("block", ""): 1,
                      ("block", "kw-block"): 1, ("allow", ""): 1}  # fmt: skip


def test_counts_are_per_minute_and_wait_until_the_minute_closes():
    clock = Clock(60 * 1000 + 10)
    log, act = make_log(clock=clock), active()
    log.observe([served(act, "sex gore"), served(act, "a cat")])
    assert log.build_batches() == []  # the minute is still open: nothing to send yet
    clock.now += 60
    log.observe([served(act, "a dog")])
    (batch,) = log.build_batches()
    counts = json.loads(batch.body)["counts"]
    assert {c["minute"] for c in counts} == {"1970-01-01T16:40:00Z"}
    block = [c for c in counts if c["action"] == "block"]
    # A rule id counts decisions of that action where the rule fired (both fired here).
    assert {c["rule_id"]: c["count"] for c in block} == {"": 1, "kw-block": 1, "kw-review": 1}
    assert all(c["channel"] == "production" and c["version"] == 3 for c in counts)
    rest = json.loads(log.build_batches(final=True)[0].body)["counts"]
    assert rest == [{"minute": "1970-01-01T16:41:00Z", "channel": "production", "version": 3,
                     "action": "allow", "rule_id": "", "count": 1}]  # fmt: skip


def test_the_buffer_keeps_the_newest_records_and_counts_the_drops():
    log, act = make_log(max_pending=3), active(Sampling(audit_share=1.0))
    log.observe([served(act, f"cat {i}", rid=f"r{i}") for i in range(5)])
    assert log.stats()["pending"] == 3
    (batch,) = log.build_batches(final=True)
    body = json.loads(batch.body)
    assert [r["request_id"] for r in body["records"]] == ["r2", "r3", "r4"]
    assert body["dropped"] == 2
    assert log.stats()["dropped"] == 2
    log.observe([served(act, "cat 5", rid="r5")])
    assert json.loads(log.build_batches(final=True)[0].body)["dropped"] == 0  # reported once


def test_the_buffer_is_bounded_in_bytes_of_images_held():
    image = Image.new("RGB", (100, 100))  # 30,000 bytes of pixels each
    log, act = make_log(max_pending_bytes=100_000), active(Sampling(audit_share=1.0))
    log.observe([served(act, None, image=image, rid=f"r{i}") for i in range(6)])
    assert 1 <= log.stats()["pending"] <= 3
    assert log.stats()["dropped"] == 6 - log.stats()["pending"]


def test_a_record_holds_what_the_contract_asks():
    raw = png_bytes(size=(40, 20))
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    act = active(Sampling(audit_share=1.0, thumbnail_px=16))
    log = make_log()
    log.observe([served(act, "gore", image=image, rid="req-1", raw=raw)])
    (record,) = json.loads(log.build_batches(final=True)[0].body)["records"]
    assert record["request_id"] == "req-1"
    assert record["decided_at"].endswith("Z")
    assert record["channel"] == "production"
    assert (record["version"], record["bundle_sha256"]) == (3, act.sha256)
    assert (record["action"], record["reasons"]) == ("review", ["review", "audit"])
    assert record["inclusion_probability"] == 1.0
    fired = {r["rule_id"]: r for r in record["rules"]}
    assert fired["kw-review"] == {"rule_id": "kw-review", "kind": "keyword", "action": "review",
                                  "score": 1.0, "threshold": None, "fired": True}  # fmt: skip
    assert fired["kw-block"]["fired"] is False
    assert record["prompt"] == "gore"
    assert record["image_sha256"] == hashlib.sha256(raw).hexdigest()
    thumb = Image.open(io.BytesIO(base64.b64decode(record["thumbnail_base64"])))
    assert (thumb.format, thumb.size) == ("JPEG", (16, 8))


def test_a_review_only_record_has_no_inclusion_probability():
    log = make_log()
    log.observe([served(active(NO_AUDIT), "gore")])
    (record,) = json.loads(log.build_batches(final=True)[0].body)["records"]
    assert (record["reasons"], record["inclusion_probability"]) == (["review"], None)
    assert (record["thumbnail_base64"], record["image_sha256"]) == (None, None)
    assert len(record["request_id"]) == 32  # made up when the caller gave none


def test_a_decoded_image_is_hashed_by_its_pixels():
    image = Image.new("RGB", (4, 4), (1, 2, 3))
    log = make_log()
    log.observe([served(active(Sampling(audit_share=1.0)), None, image=image)])
    (record,) = json.loads(log.build_batches(final=True)[0].body)["records"]
    assert record["image_sha256"] == hashlib.sha256(image.tobytes()).hexdigest()


def test_thumbnails_fit_the_longest_side_never_grow_and_can_be_off():
    big, small = Image.new("RGB", (600, 300)), Image.new("RGB", (50, 80))
    assert Image.open(io.BytesIO(thumbnail_jpeg(big, 256))).size == (256, 128)
    assert Image.open(io.BytesIO(thumbnail_jpeg(small, 256))).size == (50, 80)
    assert thumbnail_jpeg(big, 0) is None
    assert thumbnail_jpeg(None, 256) is None


def test_the_observer_never_raises_into_check(fleet, make_agent, caplog):
    fleet.publish(make_bundle(1))
    agent = make_agent()
    agent.poll_once()
    log = make_log().attach(agent)
    log._counts = None  # any fault inside the observer
    assert agent.check(prompt="sex").action.value == "block"
    assert log.observer_errors == 1
    assert "decision log observer failed" in caplog.text


def test_an_agent_with_the_log_counts_its_checks_and_shows_stats(fleet, make_agent):
    fleet.publish(make_bundle(1))
    agent = make_agent()
    agent.poll_once()
    log = make_log().attach(agent)
    agent.check_batch([], request_ids=[])
    agent.check(prompt="sex", request_id="q1")
    agent.check(prompt="a cat")
    body = json.loads(log.build_batches(final=True)[0].body)
    assert {(c["action"], c["rule_id"]) for c in body["counts"]} == {
        ("block", ""),
        ("block", "kw-v1"),
        ("allow", ""),
    }
    # make_bundle's bundle has no sampling (an old bundle): counts only, no records.
    assert body["records"] == []
    health = agent.health()["decision_log"]
    assert set(health) >= {"pending", "sent", "dropped", "last_error"}


def test_a_noisy_image_thumbnail_is_shrunk_under_the_servers_limit():
    noise = Image.frombytes("RGB", (1024, 1024), random.Random(3).randbytes(1024 * 1024 * 3))
    jpeg = thumbnail_jpeg(noise, 1024)
    assert len(jpeg) <= MAX_THUMBNAIL_BYTES
    assert max(Image.open(io.BytesIO(jpeg)).size) <= 1024


def test_ids_longer_than_the_server_takes_are_cut():
    log = make_log()
    log.observe([served(active(Sampling(audit_share=1.0)), "a cat", rid="r" * 500)])
    (record,) = json.loads(log.build_batches(final=True)[0].body)["records"]
    assert len(record["request_id"]) == 200


def test_a_served_batch_reads_like_the_list_of_its_decisions():
    act = active(Sampling(audit_share=1.0))
    one, two = served(act, "gore", rid="a", raw=b"x"), served(act, "a cat", rid="b")
    batch = ServedBatch(act, [one.decision, two.decision], [one.item, two.item], ["a", "b"],
                        [b"x", None], memos=None)  # fmt: skip
    assert list(batch) == [one, two]
    assert (len(batch), batch[-1], batch[0:1]) == (2, two, [one])
    with pytest.raises(IndexError):
        batch[2]


def test_the_log_judges_a_served_batch_as_it_judges_the_same_list():
    act = active(Sampling(audit_share=1.0, keep_blocks=True))
    items = [served(act, p, rid=f"r{i}") for i, p in enumerate(["gore", "sex", "a cat"])]
    batch = ServedBatch(act, [s.decision for s in items], [s.item for s in items],
                        [s.request_id for s in items])  # fmt: skip
    bodies = []
    for observed in (items, batch):
        log = make_log(rng=random.Random(5))
        log.observe(observed)
        body = json.loads(log.build_batches(final=True)[0].body)
        bodies.append(([(r["request_id"], r["reasons"]) for r in body["records"]], body["counts"]))
    assert bodies[0] == bodies[1]
    assert [reasons for _, reasons in bodies[0][0]] == [["review", "audit"], ["block", "audit"],
                                                         ["audit"]]  # fmt: skip


def test_an_audit_draw_made_by_the_caller_is_used_as_given():
    sampling = Sampling(audit_share=0.5)
    assert Sampler().reasons(sampling, "allow", 1, audit=True) == ("audit",)
    assert Sampler().reasons(sampling, "review", 1, audit=False) == ("review",)
