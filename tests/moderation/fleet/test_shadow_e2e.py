"""Shadow mode end to end: a shadow set on the server, checks through the real agent,
flips counted and uploaded as ShadowCount rows and shadow_flip records."""

from __future__ import annotations

import random

import pytest

from moderation.engine.decision import Action
from moderation.fleet.client import FleetClient
from moderation.fleet.decision_log import DecisionLog
from moderation.fleet.shadow import ShadowEvaluator
from moderation.models import DecisionRecord, ShadowCount
from policy_admin.fleet.services import fleet_token_create
from policy_admin.services.publishing import policy_publish
from policy_admin.services.shadow import shadow_set

from .decision_helpers import Clock
from .test_agent_e2e import add_keywords, make_agent, pinned_keys, publish_to_production

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fleet_isolated")]


def test_a_shadow_set_on_the_server_is_evaluated_and_its_flips_uploaded(
    live_server, tenant, policy, keyword_set, editor, admin, tmp_path
):
    v1 = publish_to_production(policy, editor)
    add_keywords(policy, editor, "Cats", "cat")
    v2 = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    shadow_set(policy=policy, actor=editor, channel="production", number=v2.number, rate=1.0)
    _, secret = fleet_token_create(
        tenant=tenant, actor=admin, name="e2e", policies=[policy], channels=["production"]
    )
    state, clock = tmp_path / "state", Clock(1_796_000_000.0)
    agent = make_agent(live_server.url, secret, pinned_keys(live_server.url), state)
    agent.poll_once()
    assert agent.active.version == v1.number
    assert (agent.shadow.version, agent.shadow.sha256) == (v2.number, v2.sha256)
    log = DecisionLog(
        client=FleetClient(live_server.url, secret, timeout=5.0),
        policy="default", channel="production", instance_id="gpu-e2e-1",
        spool_dir=state / "decisions", rng=random.Random(1), clock=clock,
    ).attach(agent)  # fmt: skip
    shadow_eval = ShadowEvaluator(agent, log, clock=clock).attach()

    assert agent.check(prompt="a cat", request_id="cat-1").action is Action.ALLOW
    assert agent.check(prompt="a dog", request_id="dog-1").action is Action.ALLOW
    assert agent.check(prompt="gore", request_id="gore-1").action is Action.BLOCK
    shadow_eval.drain()
    log.flush(final=True)

    assert log.last_error is None
    rows = {
        (c.enforced_action, c.shadow_action, c.rule_id): c.count
        for c in ShadowCount.objects.filter(tenant=tenant, version_number=1)
    }
    assert all(
        c.shadow_version_number == v2.number for c in ShadowCount.objects.filter(tenant=tenant)
    )
    assert rows[("allow", "allow", "")] == 1
    assert rows[("allow", "block", "")] == 1
    assert rows[("block", "block", "")] == 1
    assert any(rule and (e, s) == ("allow", "block") for e, s, rule in rows)
    flip = DecisionRecord.objects.get(tenant=tenant, request_id="cat-1")
    assert "shadow_flip" in flip.reasons
    assert flip.shadow_version_id == v2.pk
    assert flip.shadow_action == "block"
    assert not DecisionRecord.objects.filter(request_id="dog-1").exists()
