"""The agent against a fake fleet server: activation, 304s, refusals, transport, reports."""

from __future__ import annotations

import json

import pytest

from moderation.engine.decision import Action

from .conftest import Signer, make_bundle, make_pin


def test_first_poll_activates_and_check_is_stamped(fleet, make_agent):
    bundle = make_bundle(3)
    fleet.publish(bundle)
    agent = make_agent()

    result = agent.poll_once()

    assert result.changed
    assert not result.failed
    decision = agent.check(prompt="explicit sex scene")
    assert decision.action is Action.BLOCK
    assert (decision.stamp.version, decision.stamp.sha256) == (3, bundle.sha256)
    assert "If-None-Match" not in fleet.requests[0]


def test_next_poll_sends_the_active_etag_and_304_keeps_the_bundle(fleet, make_agent):
    bundle = make_bundle(3)
    fleet.publish(bundle)
    agent = make_agent()
    agent.poll_once()

    result = agent.poll_once()

    assert not result.changed
    assert not result.failed
    assert fleet.requests[-1]["If-None-Match"] == f'"{bundle.sha256}"'
    assert fleet.bodies_sent == 1
    assert agent.active.sha256 == bundle.sha256


def test_a_newer_version_replaces_the_active_one(fleet, make_agent):
    fleet.publish(make_bundle(3))
    agent = make_agent()
    agent.poll_once()
    fleet.publish(make_bundle(4))

    assert agent.poll_once().changed
    assert agent.check(prompt="hello").stamp.version == 4


def _tampered(fleet, other):
    fleet.publish(make_bundle(4), tamper=True)


def _wrong_signature(fleet, other):
    impostor = Signer("k1")  # the trusted kid, but not the trusted key
    fleet.publish(make_bundle(4), signers=[impostor])


def _unknown_kid(fleet, other):
    fleet.publish(make_bundle(4), signers=[Signer("k9")])


def _unsigned(fleet, other):
    fleet.publish(make_bundle(4), signatures="")


def _other_policy(fleet, other):
    fleet.publish(make_bundle(4, slug="kids-app"))


def _other_tenant(fleet, other):
    fleet.publish(make_bundle(4, tenant="globex"))


def _draft(fleet, other):
    fleet.publish(make_bundle(None))


def _older_version(fleet, other):
    fleet.publish(make_bundle(2))


def _same_version_other_content(fleet, other):
    fleet.publish(make_bundle(3, pins={"minilm": make_pin("minilm"), "x": make_pin("x")}))


def _missing_pins(fleet, other):
    fleet.publish(make_bundle(4, pins={"nudenet": make_pin("nudenet")}))


def _other_weights(fleet, other):
    fleet.publish(make_bundle(4, pins={"minilm": make_pin("minilm", "2")}))


def _truncated(fleet, other):
    fleet.publish(make_bundle(4), truncate=True)


def _server_error(fleet, other):
    fleet.fail_with = 500


REFUSALS = {
    "digest_mismatch": [_tampered],
    "bad_signature": [_wrong_signature, _unsigned],
    "unknown_key": [_unknown_kid],
    "scope_mismatch": [_other_policy, _other_tenant, _draft],
    "rollback": [_older_version, _same_version_other_content],
    "pin_mismatch": [_missing_pins, _other_weights],
    "http_error": [_truncated],
}
CASES = [(reason, fault) for reason, faults in REFUSALS.items() for fault in faults]


@pytest.mark.parametrize(("reason", "fault"), CASES, ids=[f.__name__[1:] for _, f in CASES])
def test_each_refusal_keeps_the_last_good_bundle_and_reports_why(fleet, make_agent, reason, fault):
    good = make_bundle(3)
    fleet.publish(good)
    agent = make_agent()
    agent.poll_once()
    fault(fleet, None)

    result = agent.poll_once()

    assert not result.changed
    assert result.refused.reason == reason
    assert agent.check(prompt="sex").stamp.sha256 == good.sha256
    report = fleet.reports[-1]["bundles"][0]
    assert (report["version"], report["sha256"]) == (3, good.sha256)
    assert report["last_rejected"]["reason"] == reason
    assert report["last_rejected"]["message"]
    assert json.loads((agent.store.pointer).read_text())["sha256"] == good.sha256


def test_models_whose_pins_cannot_be_computed_refuse_the_bundle(fleet, make_agent, models):
    def unreadable(required):
        raise FileNotFoundError("weights file /models/minilm.safetensors is gone")

    models.check_pins = unreadable
    fleet.publish(make_bundle(3))
    agent = make_agent()

    result = agent.poll_once()

    assert result.refused.reason == "pin_mismatch"
    assert "minilm.safetensors is gone" in result.refused.message
    assert agent.active is None


def test_server_error_keeps_the_bundle_and_counts_as_a_failure(fleet, make_agent):
    fleet.publish(make_bundle(3))
    agent = make_agent()
    agent.poll_once()
    fleet.fail_with = 500

    result = agent.poll_once()

    assert result.failed
    assert agent.active.version == 3
    assert "HTTP 500" in agent.last_error
    assert "the server failed" in agent.last_error
    assert agent.health()["last_rejected"] is None


def test_timeout_keeps_the_bundle_and_counts_as_a_failure(fleet, make_agent):
    fleet.publish(make_bundle(3))
    agent = make_agent(timeout=0.2)
    agent.poll_once()
    fleet.delay = 1.0

    result = agent.poll_once()

    assert result.failed
    assert agent.active.version == 3
    assert "did not answer in time" in agent.last_error


def test_a_refused_sha_is_never_downloaded_or_verified_again(fleet, make_agent, monkeypatch):
    fleet.publish(make_bundle(3))
    agent = make_agent()
    agent.poll_once()
    bad = fleet.publish(make_bundle(4), signers=[Signer("k9")])
    agent.poll_once()
    bodies = fleet.bodies_sent
    verified = []
    monkeypatch.setattr(agent, "_verify", lambda *a, **k: verified.append(a))

    result = agent.poll_once()

    assert not result.changed
    assert not result.failed
    assert fleet.bodies_sent == bodies + 1  # the server wrote it; the agent closed unread
    assert verified == []
    assert agent.last_rejected.sha256 == bad.sha256
    assert fleet.requests[-1]["If-None-Match"] == f'"{make_bundle(3).sha256}"'


def test_a_redirect_is_not_followed_so_the_token_stays_home(fleet, make_agent):
    fleet.redirect_to = "http://elsewhere.invalid/collect"
    agent = make_agent()

    result = agent.poll_once()

    assert result.failed
    assert "redirect to http://elsewhere.invalid/collect not followed" in agent.last_error
    assert len(fleet.requests) == 1


def test_a_revoked_token_is_an_http_error_with_the_server_message(fleet, make_agent):
    fleet.publish(make_bundle(3))
    agent = make_agent()
    agent.client.token = "revoked"

    assert agent.poll_once().failed
    assert "HTTP 401" in agent.last_error
    assert "unknown fleet token" in agent.last_error


def test_a_truncated_download_is_retried_and_activates_once_intact(fleet, make_agent):
    fleet.publish(make_bundle(3))
    agent = make_agent()
    agent.poll_once()
    fleet.publish(make_bundle(4), truncate=True)
    assert agent.poll_once().failed

    fleet.publish(make_bundle(4))

    assert agent.poll_once().changed
    assert agent.active.version == 4
    assert agent.last_rejected is None


def test_a_refused_bundle_does_not_become_the_etag(fleet, make_agent):
    good = make_bundle(3)
    fleet.publish(good)
    agent = make_agent()
    agent.poll_once()
    fleet.publish(make_bundle(4), tamper=True)
    agent.poll_once()

    agent.poll_once()

    assert fleet.requests[-1]["If-None-Match"] == f'"{good.sha256}"'


def test_rotation_accepts_a_bundle_signed_by_old_and_new_keys(fleet, make_agent, signer):
    successor = Signer("k2")
    fleet.publish(make_bundle(3), signers=[successor, signer])
    old_agent = make_agent(state=None)
    new_agent = make_agent(state=old_agent.store.directory / "other",
                           trusted={successor.kid: successor.public_raw()})  # fmt: skip

    assert old_agent.poll_once().changed
    assert new_agent.poll_once().changed


def test_status_report_payload_follows_the_contract(fleet, make_agent, models):
    bundle = make_bundle(3)
    fleet.publish(bundle)
    agent = make_agent()

    agent.poll_once()

    assert fleet.reports == [{
        "instance_id": "gpu-7",
        "labels": {"region": "eu"},
        "bundles": [{"policy": "default", "channel": "production", "version": 3,
                     "sha256": bundle.sha256, "last_rejected": None}],
        "models": {"minilm": models.text.pin.as_dict()},
    }]  # fmt: skip


def test_reports_after_changes_and_as_a_heartbeat_only(fleet, make_agent):
    fleet.publish(make_bundle(3))
    agent = make_agent()  # heartbeat_every=3

    for _ in range(6):
        agent.poll_once()

    assert len(fleet.reports) == 3  # activation on poll 1, heartbeats on polls 3 and 6
