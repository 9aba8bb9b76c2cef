"""The decision log's uploader: batch ids across retries, backoff, spill, restore, drops."""

from __future__ import annotations

import json
import random
import time

import pytest

from moderation.engine.bundle import Sampling
from moderation.fleet.client import FleetClient, UploadError
from moderation.fleet.decision_log import MAX_BATCH_COUNTS
from moderation.fleet.schedule import full_jitter

from .conftest import TOKEN, LoopbackServer
from .decision_helpers import Clock, FakeDecisionsClient, active, down, make_log, served

AUDIT_ALL = Sampling(audit_share=1.0)


def keep(log, *prompts):
    act = active(AUDIT_ALL)
    log.observe([served(act, p, rid=p) for p in prompts])


def ids(client):
    return [b["batch_id"] for b in client.posted]


def test_a_batch_keeps_its_id_across_retries_and_is_stored_once():
    client, clock = FakeDecisionsClient(), Clock()
    log = make_log(client, clock=clock)
    client.fail = [down(503), UploadError("cannot reach the server")]
    keep(log, "a", "b")
    log.flush()
    clock.now = log.retry_at + 0.01
    log.flush()
    clock.now = log.retry_at + 0.01
    log.flush()
    assert len(client.posted) == 3
    assert len(set(ids(client))) == 1
    assert log.stats()["sent"] == 2
    assert log.stats()["pending"] == 0
    assert log.last_error is None


def test_a_duplicate_answer_counts_as_delivered():
    client = FakeDecisionsClient()
    log = make_log(client)
    keep(log, "a")
    (batch,) = log.build_batches(final=True)
    client.stored.add(batch.batch_id)  # an earlier try was stored; its answer was lost
    log.spool.put(batch)
    log.flush()
    assert log.stats()["sent"] == 1
    assert log.duplicates == 1
    assert len(log.spool) == 0


def test_backoff_is_full_jitter_doubling_to_the_cap():
    rng = random.Random(3)
    for failures, ceiling in [(1, 10.0), (2, 20.0), (3, 40.0), (8, 60.0), (40, 60.0)]:
        delays = [full_jitter(failures, base=5.0, cap=60.0, rng=rng) for _ in range(300)]
        assert 0.0 <= min(delays) < ceiling * 0.1
        assert ceiling * 0.9 < max(delays) <= ceiling


def test_nothing_is_sent_while_backing_off_and_new_batches_spill(tmp_path):
    client, clock = FakeDecisionsClient(), Clock()
    log = make_log(client, clock=clock, spool_dir=tmp_path / "decisions", upload_interval=5.0)
    client.fail = [down(502)]
    keep(log, "a")
    log.flush()
    assert log.failures == 1
    assert clock.now <= log.retry_at <= clock.now + 10.0
    keep(log, "b")
    log.flush()  # still backing off
    assert len(client.posted) == 1
    assert len(list((tmp_path / "decisions").glob("*.json"))) == 2
    assert log.stats()["pending"] == 2
    clock.now = log.retry_at + 0.01
    log.flush()
    # Oldest first: the batch that failed, then the one spilled while backing off.
    assert [len(b["records"]) for b in client.posted[1:]] == [1, 1]
    assert [b["records"][0]["request_id"] for b in client.posted[1:]] == ["a", "b"]
    assert client.posted[0]["batch_id"] == client.posted[1]["batch_id"]
    assert log.stats()["spilled_batches"] == 0


def test_spilled_batches_survive_a_restart_and_go_first(tmp_path):
    spool, clock = tmp_path / "decisions", Clock()
    dead = FakeDecisionsClient()
    dead.fail = [down(503)]
    first = make_log(dead, clock=clock, spool_dir=spool)
    keep(first, "before-restart")
    first.flush()
    spilled_id = dead.posted[0]["batch_id"]

    client = FakeDecisionsClient()
    second = make_log(client, clock=clock, spool_dir=spool)
    assert second.stats()["pending"] == 1
    keep(second, "after-restart")
    second.flush()
    assert ids(client)[0] == spilled_id
    assert [b["records"][0]["request_id"] for b in client.posted] == [
        "before-restart", "after-restart"
    ]  # fmt: skip
    assert list(spool.glob("*.json")) == []


def test_past_the_disk_cap_the_oldest_batches_drop_and_the_drops_are_reported(tmp_path):
    client, clock = FakeDecisionsClient(), Clock()
    log = make_log(client, clock=clock, spool_dir=tmp_path / "d", max_spool_bytes=3000)
    client.fail = [down(503)]
    for i in range(6):
        keep(log, f"p{i}")
        log.flush()
    stats = log.stats()
    assert stats["spilled_bytes"] <= 3000
    assert stats["dropped"] == 6 - stats["spilled_batches"] > 0
    clock.now = log.retry_at + 0.01
    keep(log, "last")
    log.flush()
    delivered = [r["request_id"] for b in client.posted[1:] for r in b["records"]]
    assert delivered[-1] == "last"
    assert delivered[:-1] == [f"p{i}" for i in range(6)][-len(delivered) + 1 :]
    assert sum(b["dropped"] for b in client.posted[1:]) == stats["dropped"]


@pytest.mark.parametrize("status", [400, 413])
def test_a_refused_batch_is_discarded_and_never_resent(status, tmp_path, caplog):
    client = FakeDecisionsClient()
    log = make_log(client, spool_dir=tmp_path / "d")
    client.fail = [UploadError("records[0].action: not an action", status=status)]
    keep(log, "a")
    log.flush()
    keep(log, "b")
    log.flush()
    assert [b["records"][0]["request_id"] for b in client.posted] == ["a", "b"]
    assert (log.rejected, log.failures, len(log.spool)) == (1, 0, 0)
    assert "refused and discarded" in caplog.text


@pytest.mark.parametrize("status", [401, 403, 404, 500, None])
def test_auth_and_server_errors_are_retried(status):
    client = FakeDecisionsClient()
    log = make_log(client)
    client.fail = [down(status)]
    keep(log, "a")
    log.flush()
    assert (log.failures, log.stats()["pending"]) == (1, 1)


def test_batches_respect_the_record_and_count_limits():
    clock = Clock()
    log = make_log(clock=clock, batch_size=1000)
    act = active(Sampling(audit_share=1.0, review_per_minute=0))
    log.observe([served(act, "a cat", rid=str(i)) for i in range(1200)])
    # More counter rows than a batch may hold: one (minute, version, action) per minute.
    for minute in range(MAX_BATCH_COUNTS + 10):
        log._counts[(minute, 3, "allow", "")] = 1
    batches = [json.loads(b.body) for b in log.build_batches(final=True)]
    assert [len(b["records"]) for b in batches] == [1000, 200]
    assert sum(len(b["counts"]) for b in batches) == MAX_BATCH_COUNTS + 11
    assert all(len(b["counts"]) <= MAX_BATCH_COUNTS for b in batches)
    assert len({b["batch_id"] for b in batches}) == 2


def test_enough_waiting_records_wake_the_uploader_and_stop_flushes():
    client = FakeDecisionsClient()
    log = make_log(client, upload_interval=60.0, batch_size=2, clock=time.time)
    log.start()
    keep(log, "a", "b")
    deadline = time.time() + 5
    while not client.posted and time.time() < deadline:
        time.sleep(0.01)
    assert [r["request_id"] for r in client.posted[0]["records"]] == ["a", "b"]
    keep(log, "c")
    log.stop()
    assert client.posted[-1]["records"][0]["request_id"] == "c"


class DecisionsEndpoint(LoopbackServer):
    """Answers POST .../decisions with a fixed status and body, recording what came."""

    def __init__(self, status: int, answer: dict) -> None:
        self.status, self.answer, self.seen = status, answer, []
        super().__init__()

    def _handler(self):
        from http.server import BaseHTTPRequestHandler

        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.seen.append((self.path, self.headers.get("Authorization"), body))
                data = json.dumps(endpoint.answer).encode()
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (413, True), (403, False), (503, False)]
)
def test_the_client_posts_with_the_token_and_classifies_errors(status, permanent):
    endpoint = DecisionsEndpoint(status, {"message": "records[0].action: bad", "field": "x"})
    try:
        client = FleetClient(endpoint.url, TOKEN, timeout=2)
        with pytest.raises(UploadError) as caught:
            client.post_decisions("default", b'{"batch_id":"b1"}')
    finally:
        endpoint.close()
    assert caught.value.permanent is permanent
    assert "records[0].action: bad" in caught.value.message
    path, auth, body = endpoint.seen[0]
    assert path == "/api/v1/fleet/policies/default/decisions"
    assert (auth, body) == (f"Bearer {TOKEN}", b'{"batch_id":"b1"}')


def test_the_client_returns_the_answer_and_an_unreachable_server_is_retryable():
    endpoint = DecisionsEndpoint(201, {"batch_id": "b1", "stored": 2, "duplicate": False})
    try:
        answer = FleetClient(endpoint.url, TOKEN).post_decisions("default", b"{}")
    finally:
        endpoint.close()
    assert answer == {"batch_id": "b1", "stored": 2, "duplicate": False}
    with pytest.raises(UploadError) as caught:
        FleetClient(endpoint.url, TOKEN, timeout=1).post_decisions("default", b"{}")
    assert caught.value.status is None
    assert not caught.value.permanent


def test_stop_with_the_server_down_leaves_the_batch_on_disk_for_the_next_start(tmp_path):
    client = FakeDecisionsClient()
    client.fail = [down(503)]
    log = make_log(client, spool_dir=tmp_path / "d", clock=time.time, upload_interval=60.0)
    log.start()
    keep(log, "a")
    log.stop()
    assert log.failures == 1
    assert len(list((tmp_path / "d").glob("*.json"))) == 1
    assert make_log(FakeDecisionsClient(), spool_dir=tmp_path / "d").stats()["pending"] == 1


def test_an_unreadable_spilled_batch_counts_as_dropped(tmp_path):
    clock, dead = Clock(), FakeDecisionsClient()
    dead.fail = [down(503)]
    first = make_log(dead, clock=clock, spool_dir=tmp_path / "d")
    keep(first, "a", "b")
    first.flush()
    (spilled,) = (tmp_path / "d").glob("*.json")
    client = FakeDecisionsClient()
    second = make_log(client, clock=clock, spool_dir=tmp_path / "d")
    spilled.unlink()  # gone between the start-up scan and the send
    keep(second, "c")
    second.flush()
    assert second.stats()["dropped"] == 2
    assert [b["dropped"] for b in client.posted] == [0]  # "c"'s batch was built before
    keep(second, "d")
    second.flush()
    assert client.posted[-1]["dropped"] == 2
