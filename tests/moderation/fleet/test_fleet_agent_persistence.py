"""The agent's persisted state: a restart serves what was saved, unless it no longer verifies."""

from __future__ import annotations

import json
import shutil

from .conftest import Signer, make_bundle


def test_restart_with_the_server_down_serves_the_persisted_bundle(fleet, make_agent):
    bundle = make_bundle(5)
    fleet.publish(bundle)
    make_agent().poll_once()
    fleet.close()

    agent = make_agent(server="http://127.0.0.1:9", timeout=0.5)
    assert agent.restore()
    result = agent.poll_once()

    assert result.failed
    assert "cannot reach the server" in agent.last_error
    assert "cannot reach the server" in agent.health()["last_report_error"]
    decision = agent.check(prompt="sex")
    assert (decision.stamp.version, decision.stamp.sha256) == (5, bundle.sha256)
    assert agent.health()["status"] == "ok"


def test_restart_then_poll_sends_the_persisted_etag(fleet, make_agent):
    bundle = make_bundle(5)
    fleet.publish(bundle)
    make_agent().poll_once()

    agent = make_agent()
    agent.restore()
    agent.poll_once()

    assert fleet.requests[-1]["If-None-Match"] == f'"{bundle.sha256}"'
    assert fleet.bodies_sent == 1


def test_a_tampered_persisted_bundle_is_refused_at_start(fleet, make_agent, tmp_path):
    bundle = make_bundle(5)
    fleet.publish(bundle)
    make_agent().poll_once()
    path = tmp_path / "state" / "bundles" / f"{bundle.sha256}.bundle"
    path.write_bytes(path.read_bytes().replace(b"sex", b"sez"))

    agent = make_agent()

    assert not agent.restore()
    assert agent.active is None
    assert agent.last_rejected.reason == "digest_mismatch"
    assert "refused at start" in agent.last_rejected.message


def test_a_persisted_bundle_whose_signature_no_longer_verifies_is_refused(
    fleet, make_agent, tmp_path
):
    fleet.publish(make_bundle(5))
    make_agent().poll_once()
    pointer = tmp_path / "state" / "active.json"
    meta = json.loads(pointer.read_text())
    meta["signatures"] = Signer("k1").header(b"something else")
    pointer.write_text(json.dumps(meta))

    agent = make_agent()

    assert not agent.restore()
    assert agent.last_rejected.reason == "bad_signature"
    agent.poll_once()
    assert fleet.reports[-1]["bundles"][0]["version"] == 5  # fetched again, verified, active


def test_a_persisted_bundle_signed_by_a_key_no_longer_trusted_is_refused(fleet, make_agent, signer):
    fleet.publish(make_bundle(5))
    make_agent().poll_once()
    successor = Signer("k2")

    agent = make_agent(trusted={successor.kid: successor.public_raw()})

    assert not agent.restore()
    assert agent.last_rejected.reason == "unknown_key"


def test_persist_failure_keeps_the_old_bundle_then_retries(fleet, make_agent, tmp_path):
    fleet.publish(make_bundle(3))
    agent = make_agent()
    agent.poll_once()
    bundles = tmp_path / "state" / "bundles"
    shutil.rmtree(bundles)
    bundles.write_text("a file where the bundle directory should be")
    fleet.publish(make_bundle(4))

    result = agent.poll_once()

    assert result.refused.reason == "persist_failed"
    assert agent.active.version == 3
    bundles.unlink()
    assert agent.poll_once().changed
    assert agent.active.version == 4


def test_a_bundle_persisted_for_another_channel_is_not_served(fleet, make_agent, tmp_path):
    fleet.publish(make_bundle(5))
    make_agent().poll_once()
    pointer = tmp_path / "state" / "active.json"
    meta = json.loads(pointer.read_text())
    pointer.write_text(json.dumps({**meta, "channel": "staging"}))

    agent = make_agent()

    assert not agent.restore()
    assert agent.last_rejected.reason == "scope_mismatch"
    assert "saved for default/staging" in agent.last_rejected.message


def test_a_garbled_pointer_does_not_block_the_next_save(fleet, make_agent, tmp_path):
    fleet.publish(make_bundle(3))
    agent = make_agent()
    agent.poll_once()
    pointer = tmp_path / "state" / "active.json"
    pointer.write_text(json.dumps({**json.loads(pointer.read_text()), "sha256": "../../etc"}))
    fleet.publish(make_bundle(4))

    assert agent.poll_once().changed
    assert json.loads(pointer.read_text())["version"] == 4
