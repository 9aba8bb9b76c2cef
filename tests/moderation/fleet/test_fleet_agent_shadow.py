"""The agent's shadow slot: fetched, verified like an enforced bundle, never touching it."""

from __future__ import annotations

from moderation.engine.decision import Action

from .conftest import make_bundle, make_pin


def _enforced(fleet, make_agent, version=5):
    fleet.publish(make_bundle(version))
    agent = make_agent()
    assert agent.poll_once().changed
    return agent


def test_the_named_shadow_is_fetched_verified_and_held_with_its_rate(fleet, make_agent):
    agent = _enforced(fleet, make_agent)
    candidate = make_bundle(6)
    fleet.publish_version(candidate, rate=0.25)

    result = agent.poll_once()

    assert result.shadow_changed
    assert not result.changed
    assert (agent.shadow.version, agent.shadow.sha256, agent.shadow.rate) == (
        6, candidate.sha256, 0.25,
    )  # fmt: skip
    assert fleet.requests[-1]["path"] == "/api/v1/fleet/policies/default/versions/6/bundle"
    assert agent.active.version == 5
    assert agent.health()["shadow"] == {
        "version": 6, "sha256": candidate.sha256, "rate": 0.25, "last_rejected": None,
    }  # fmt: skip
    assert fleet.reports[-1]["bundles"][0]["shadow"]["version"] == 6


def test_a_304_keeps_the_shadow_without_refetching_and_follows_a_new_rate(fleet, make_agent):
    agent = _enforced(fleet, make_agent)
    fleet.publish_version(make_bundle(6), rate=0.25)
    agent.poll_once()
    fetched = fleet.bodies_sent
    fleet.shadow = (6, fleet.shadow[1], 1.0)

    result = agent.poll_once()

    assert not result.shadow_changed
    assert fleet.bodies_sent == fetched
    assert agent.shadow.rate == 1.0


def test_no_shadow_header_drops_the_shadow(fleet, make_agent):
    agent = _enforced(fleet, make_agent)
    fleet.publish_version(make_bundle(6), rate=0.5)
    agent.poll_once()
    fleet.shadow = None

    assert agent.poll_once().shadow_changed
    assert agent.shadow is None
    assert agent.health()["shadow"] is None
    assert "shadow" not in agent.status_payload()["bundles"][0]


def test_a_tampered_shadow_is_refused_while_enforcement_continues(fleet, make_agent):
    agent = _enforced(fleet, make_agent)
    fleet.publish_version(make_bundle(6), tamper=True, rate=1.0)

    result = agent.poll_once()

    assert result.shadow_refused.reason == "digest_mismatch"
    assert not result.failed
    assert result.refused is None
    assert agent.shadow is None
    assert agent.active.version == 5
    assert agent.check(prompt="explicit sex").action is Action.BLOCK
    assert agent.health()["last_rejected"] is None
    shadow = agent.status_payload()["bundles"][0]["shadow"]
    assert shadow["version"] is None
    assert shadow["last_rejected"]["reason"] == "digest_mismatch"
    assert shadow["last_rejected"]["version"] == 6


def test_a_shadow_missing_a_model_pin_is_refused_reported_and_not_verified_again(
    fleet, make_agent, monkeypatch
):
    agent = _enforced(fleet, make_agent)
    needs = {"minilm": make_pin("minilm"), "clip": make_pin("clip")}
    fleet.publish_version(make_bundle(6, pins=needs), rate=1.0)

    result = agent.poll_once()

    assert result.shadow_refused.reason == "pin_mismatch"
    assert "clip" in result.shadow_refused.message
    assert fleet.reports[-1]["bundles"][0]["shadow"]["last_rejected"]["reason"] == "pin_mismatch"
    assert fleet.reports[-1]["bundles"][0]["last_rejected"] is None
    fetched = fleet.bodies_sent
    agent.poll_once()
    assert fleet.bodies_sent == fetched
    assert agent.health()["shadow"]["last_rejected"]["reason"] == "pin_mismatch"
    assert agent.active.version == 5


def test_anti_rollback_is_per_slot(fleet, make_agent):
    agent = _enforced(fleet, make_agent, version=5)
    # An older version may be shadowed: the enforced slot's floor does not apply to it.
    fleet.publish_version(make_bundle(3), rate=1.0)
    agent.poll_once()
    assert agent.shadow.version == 3
    fleet.publish_version(make_bundle(4), rate=1.0)
    agent.poll_once()
    assert agent.shadow.version == 4

    # But the shadow slot never goes below the highest shadow it accepted.
    fleet.publish_version(make_bundle(3), rate=1.0)
    result = agent.poll_once()

    assert result.shadow_refused.reason == "rollback"
    assert agent.shadow is None
    assert agent.active.version == 5


def test_a_shadow_fetch_failure_keeps_enforcement_and_is_retried(fleet, make_agent):
    agent = _enforced(fleet, make_agent)
    fleet.shadow = (6, make_bundle(6).sha256, 1.0)  # named, but no such version body yet

    result = agent.poll_once()

    assert result.shadow_refused.reason == "http_error"
    assert agent.active.version == 5
    fleet.publish_version(make_bundle(6), rate=1.0)
    assert agent.poll_once().shadow_changed
    assert agent.shadow.version == 6
