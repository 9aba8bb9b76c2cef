"""The real agent's decision log against the live server: down then up, duplicate, malformed.

The agent (built as `python -m moderation.fleet` builds it) uploads through the pass-through
proxy of test_agent_e2e, which can answer 503 for the decisions path as a load balancer
does while the app is down. Records must land as DecisionRecord rows, once each.
"""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from moderation.engine.decision import Action
from moderation.fleet.client import FleetClient
from moderation.fleet.decision_log import DecisionLog
from moderation.fleet.decision_records import packed_body
from moderation.fleet.decision_spool import Batch
from moderation.models import DecisionBatch, DecisionCount, DecisionRecord
from policy_admin.fleet.services import fleet_token_create
from policy_admin.models import DecisionSampling

from .decision_helpers import Clock
from .test_agent_e2e import Proxy, closed_port_url, make_agent, pinned_keys, publish_to_production

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fleet_isolated")]

DECISIONS_PATH = "/api/v1/fleet/policies/default/decisions"


class FlakyProxy(Proxy):
    """The pass-through proxy; while `down`, the decisions path answers 503 unforwarded."""

    down = False

    def __init__(self, upstream: str) -> None:
        self.bodies: list[bytes] = []  # every decision batch the agent sent, in order
        super().__init__(upstream)

    def answer(self, method, path, headers, body):
        if path == DECISIONS_PATH:
            self.bodies.append(body)
        if path == DECISIONS_PATH and self.down:
            self.answers.append((path, 503))
            data = b'{"message": "upstream unavailable"}'
            return 503, {"Content-Type": "application/json"}, data
        return super().answer(method, path, headers, body)


@pytest.fixture
def flaky(live_server):
    server = FlakyProxy(live_server.url)
    yield server
    server.close()


def decision_log(server: str, secret: str, state, clock) -> DecisionLog:
    return DecisionLog(
        client=FleetClient(server, secret, timeout=2.0),
        policy="default",
        channel="production",
        instance_id="gpu-e2e-1",
        spool_dir=state / "decisions",
        rng=random.Random(1),
        clock=clock,
    )


def test_decisions_reach_the_server_once_through_outage_restart_and_bad_batches(
    live_server, flaky, tenant, policy, keyword_set, editor, admin, tmp_path, caplog
):
    DecisionSampling.objects.create(
        tenant=tenant, policy=policy, audit_share=0.5, keep_blocks=True, review_per_minute=10
    )
    v1 = publish_to_production(policy, editor)
    _, secret = fleet_token_create(
        tenant=tenant, actor=admin, name="e2e", policies=[policy], channels=["production"]
    )
    state, clock = tmp_path / "state", Clock(1_796_000_000.0)
    agent = make_agent(flaky.url, secret, pinned_keys(live_server.url), state)
    assert agent.poll_once().changed
    assert agent.active.compiled.bundle.sampling.keep_blocks
    log = decision_log(flaky.url, secret, state, clock).attach(agent)

    # The server is down: the batch is spilled to the state dir, nothing is stored.
    flaky.down = True
    assert agent.check(prompt="a beheading video", request_id="blocked-1").action is Action.BLOCK
    for i in range(9):
        agent.check(prompt=f"a cat {i}", request_id=f"cat-{i}")
    clock.now += 60  # the minute closes: its counts travel too
    log.flush()
    assert log.failures == 1
    assert log.stats()["spilled_batches"] == 1
    assert DecisionRecord.objects.count() == DecisionBatch.objects.count() == 0

    # Restart while the server is still unreachable: the spilled batch stays on disk.
    restarted = decision_log(closed_port_url(), secret, state, clock).attach(agent)
    agent.observers.remove(log.observe)
    restarted.flush()
    assert restarted.stats()["spilled_batches"] == 1
    assert restarted.stats()["pending"] == log.stats()["pending"] > 0
    assert "cannot reach the server" in restarted.last_error

    # The server is back: a fresh start sends the spilled batch first, then the new one.
    flaky.down = False
    back = decision_log(flaky.url, secret, state, clock).attach(agent)
    agent.observers.remove(restarted.observe)
    agent.check(prompt="more gore please", request_id="blocked-2")
    back.flush(final=True)
    assert back.stats()["spilled_batches"] == 0
    assert back.last_error is None
    assert DecisionBatch.objects.count() == 2
    records = {r.request_id: r for r in DecisionRecord.objects.filter(tenant=tenant)}
    assert {"blocked-1", "blocked-2"} <= set(records)
    blocked = records["blocked-1"]
    assert (blocked.action, blocked.version_id, blocked.channel) == ("block", v1.pk, "production")
    assert "block" in blocked.reasons
    assert blocked.prompt == "a beheading video"
    assert any(r["rule_id"] == f"keywords:{keyword_set.pk}" and r["fired"] for r in blocked.rules)
    audited = [r for r in records.values() if "audit" in r.reasons]
    assert audited
    assert all(r.audited and r.inclusion_probability == 0.5 for r in audited)
    counted = Counter()
    for c in DecisionCount.objects.filter(tenant=tenant, version_number=1):
        counted[(c.action, c.rule_id)] += c.count  # summed over the two minutes
    assert counted[("allow", "")] == 9
    assert counted[("block", "")] == 2
    assert counted[("block", f"keywords:{keyword_set.pk}")] == 2

    # A retried batch (its answer was lost) is answered as a duplicate and stored once.
    first = DecisionBatch.objects.order_by("received_at", "id").first()
    resent = [b for b in flaky.bodies if json.loads(b)["batch_id"] == first.batch_id]
    # Sent while down and again once back (the closed port saw the third try): one id.
    assert len(resent) == 2
    before = DecisionRecord.objects.count()
    answer = FleetClient(flaky.url, secret).post_decisions("default", resent[0])
    assert answer == {"batch_id": first.batch_id, "stored": 0, "duplicate": True}
    assert DecisionRecord.objects.count() == before

    # A malformed batch (a version this policy does not have) is refused and discarded,
    # and the next good batch still goes through.
    bad = json.loads(resent[0])
    bad["records"][0]["version"] = 99
    bad_body = packed_body(batch_id="malformed-1", instance_id="gpu-e2e-1", dropped=0,
                           counts=[], records=[json.dumps(bad["records"][0]).encode()])  # fmt: skip
    back.spool.put(Batch("malformed-1", bad_body, 1, 0))
    agent.check(prompt="gore again", request_id="blocked-3")
    back.flush(final=True)
    assert back.rejected == 1
    assert "records[0].version" in caplog.text
    assert not DecisionBatch.objects.filter(batch_id="malformed-1").exists()
    assert DecisionRecord.objects.filter(request_id="blocked-3").exists()
    assert back.stats()["pending"] == 0
