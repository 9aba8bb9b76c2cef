"""`python -m moderation.fleet --once` as an operator runs it: real model registry, real process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from moderation.engine.models.registry import ModelRegistry, RegistryConfig

from .conftest import TOKEN, make_bundle

pytestmark = pytest.mark.models

MODEL_ENV = {"MODERATION_NUDENET": "0", "MODERATION_OPENNSFW": "0", "MODERATION_DEVICE": "cpu"}


@pytest.fixture(scope="module")
def registry_pins():
    """The pins of the registry the agent process runs: the web's, catalogue phrases included."""
    config = RegistryConfig(device="cpu", enable_nudenet=False, enable_opennsfw=False)
    return ModelRegistry(config.with_catalogue_examples()).pins()


def run_once(fleet, tmp_path, server=None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **MODEL_ENV,
        "FLEET_SERVER": server or fleet.url,
        "FLEET_TOKEN": TOKEN,
        "FLEET_TENANT": "acme",
        "FLEET_POLICY": "default",
        "FLEET_STATE_DIR": str(tmp_path / "state"),
        "FLEET_TRUSTED_KEYS": f"k1={fleet.signer.public_b64()}",
        "FLEET_TIMEOUT": "2",
    }
    return subprocess.run(
        [sys.executable, "-m", "moderation.fleet", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_once_activates_then_a_restart_with_the_server_down_still_serves(
    fleet, tmp_path, registry_pins
):
    bundle = make_bundle(6, pins=registry_pins)
    fleet.publish(bundle)

    first = run_once(fleet, tmp_path)
    second = run_once(fleet, tmp_path, server="http://127.0.0.1:9")

    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["sha256"] == bundle.sha256
    assert fleet.reports[-1]["models"].keys() == registry_pins.keys()
    assert second.returncode == 1  # the poll failed ...
    health = json.loads(second.stdout)
    assert (health["status"], health["version"]) == ("ok", 6)  # ... the persisted bundle serves
    assert "cannot reach the server" in health["last_error"]


def test_once_refuses_a_bundle_pinned_to_other_weights(fleet, tmp_path, registry_pins):
    fleet.publish(make_bundle(6))  # pins a fake minilm

    done = run_once(fleet, tmp_path)

    assert done.returncode == 1
    health = json.loads(done.stdout)
    assert health["status"] == "no_bundle"
    assert health["last_rejected"]["reason"] == "pin_mismatch"


def test_the_agent_command_serves_the_moderation_service_until_sigterm(
    fleet, tmp_path, registry_pins
):
    fleet.publish(make_bundle(6, pins=registry_pins))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ, **MODEL_ENV, "FLEET_SERVER": fleet.url, "FLEET_TOKEN": TOKEN,
        "FLEET_TENANT": "acme", "FLEET_POLICY": "default",
        "FLEET_STATE_DIR": str(tmp_path / "state"),
        "FLEET_TRUSTED_KEYS": f"k1={fleet.signer.public_b64()}", "FLEET_PORT": str(port),
    }  # fmt: skip
    agent = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "moderation.fleet"], env=env, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert agent.poll() is None, agent.stderr.read()
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=2) as ready:  # noqa: S310
                    if ready.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the agent never became ready"
            time.sleep(0.5)
        request = urllib.request.Request(  # noqa: S310
            f"{url}/v1/check/batch", method="POST",
            data=json.dumps({"items": [{"prompt": "sex"}, {"prompt": "a cat"}]}).encode(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            body = json.loads(answer.read())
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as scraped:  # noqa: S310
            metrics = scraped.read().decode()
    finally:
        agent.send_signal(signal.SIGTERM)
        code = agent.wait(timeout=30)

    assert [r["action"] for r in body["results"]] == ["block", "allow"]
    assert 'moderation_agent_decisions_total{action="block"} 1.0' in metrics
    assert code == 0
