"""Shadow mode on the staged path: requests through the ASGI service's /v1/check are
shadowed on the model outputs their stage batches computed (no model pass of their own)."""

from __future__ import annotations

import asyncio
import json

import pytest

from moderation.engine.bundle import CategoryThreshold, PolicyInfo
from moderation.fleet.shadow import ShadowEvaluator
from tests.moderation.engine.conftest import build_bundle

from .decision_helpers import make_log
from .test_fleet_service import REQUESTS, anyio_backend, live_agent, models, payload, serve

__all__ = ["anyio_backend", "live_agent", "models", "serve"]  # fixtures used below

pytestmark = pytest.mark.anyio

STRICTER = (CategoryThreshold("cat-nudity", "nudity", "both", 0.3, 0.55, "policy"),)


def model_calls(models) -> int:
    return sum(len(m.calls) for m in (models.text, models.image, *models._scorers))


async def test_service_traffic_is_shadowed_on_its_recorded_outputs(
    live_agent, serve, models, fleet
):
    agent = live_agent()  # v3: nudity reviewed at 0.5, blocked at 0.8
    candidate = build_bundle(
        models, policy=PolicyInfo("acme", "default", "Default policy", 4, 8), thresholds=STRICTER
    )
    fleet.publish_version(candidate, rate=1.0)
    assert agent.poll_once().shadow_changed
    log = make_log().attach(agent)
    shadow_eval = ShadowEvaluator(agent, log).attach()
    _, client = serve(agent)
    async with client:
        answers = await asyncio.gather(
            *(client.post("/v1/check", json=payload(p, c), headers={"X-Request-Id": f"r{i}"})
              for i, (p, c) in enumerate(REQUESTS))
        )  # fmt: skip
    assert [a.status_code for a in answers] == [200] * len(REQUESTS)
    served_calls = model_calls(models)

    shadow_eval.drain()

    stats = shadow_eval.stats()
    assert stats["shadowed"] == len(REQUESTS)
    assert stats["extra_model_calls"] == 0
    assert stats["replayed_inputs"] > 0
    assert model_calls(models) == served_calls  # the shadow asked no model anything
    assert stats["rules_run"] == 1  # only the changed threshold
    [batch] = [json.loads(b.body) for b in log.build_batches(final=True)]
    rows = {(c["enforced_action"], c["shadow_action"], c["rule_id"]): c["count"]
            for c in batch["shadow_counts"]}  # fmt: skip
    # "people at the beach" scores nudity 0.6: reviewed by v3, blocked by the candidate.
    assert rows[("review", "block", "")] == 3
    assert rows[("review", "block", "cat-nudity")] == 3
    assert sum(n for (_, _, rule), n in rows.items() if rule == "") == len(REQUESTS)
    flips = [r for r in batch["records"] if "shadow_flip" in r["reasons"]]
    assert stats["flips"] == len(flips) >= 3
    assert {r["shadow"]["action"] for r in flips} == {"block"}
