"""`python -m moderation.fleet --once` as an operator runs it: real model registry, real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
