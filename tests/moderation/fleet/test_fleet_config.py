"""Poll scheduling (jitter, backoff), configuration, key pinning and the command line."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading

import pytest

from moderation.fleet.__main__ import build_agent, build_decision_log, main
from moderation.fleet.config import ConfigError, parse_config
from moderation.fleet.keys import KeyConfigError, TrustedKeys, load_key_file, parse_key_list
from moderation.fleet.refusal import Refused
from moderation.fleet.schedule import Schedule

from .conftest import TOKEN, Signer, make_bundle


def test_jitter_stays_within_twenty_percent_and_spreads():
    schedule = Schedule(15.0, rng=random.Random(7))
    delays = [schedule.next_delay(False) for _ in range(2000)]
    assert min(delays) >= 12.0
    assert max(delays) <= 18.0
    assert max(delays) - min(delays) > 5.0  # not all in step


def test_backoff_doubles_on_failures_up_to_the_cap_and_resets_on_success():
    schedule = Schedule(10.0, max_backoff=60.0, rng=random.Random(1))
    delays = [schedule.next_delay(True) for _ in range(6)]
    bases = [20, 40, 60, 60, 60, 60]
    for delay, base in zip(delays, bases, strict=True):
        assert base * 0.8 <= delay <= base * 1.2
    assert 8.0 <= schedule.next_delay(False) <= 12.0


def test_run_feeds_poll_failures_into_the_schedule(fleet, make_agent):
    fleet.fail_with = 500
    agent = make_agent()
    stop, flags = threading.Event(), []

    class Recording:
        def next_delay(self, failed):
            flags.append(failed)
            if len(flags) == 2:
                fleet.fail_with = None
                fleet.publish(make_bundle(1))
            if len(flags) == 3:
                stop.set()
            return 0.01

    agent.run(stop, Recording())

    assert flags == [True, True, False]
    assert agent.active.version == 1


def test_run_survives_an_unexpected_error_in_a_poll(fleet, make_agent, monkeypatch):
    fleet.publish(make_bundle(1))
    agent = make_agent()
    stop, flags = threading.Event(), []
    calls = iter([RuntimeError("boom")])

    def flaky_report():
        error = next(calls, None)
        if error:
            raise error
        return True

    monkeypatch.setattr(agent, "report", flaky_report)

    class StopAfterTwo:
        def next_delay(self, failed):
            flags.append(failed)
            if len(flags) == 2:
                stop.set()
            return 0.01

    agent.run(stop, StopAfterTwo())

    assert flags == [True, False]
    assert agent.active.version == 1


def test_trusted_keys_require_at_least_one_key():
    with pytest.raises(KeyConfigError, match="no trusted signing keys"):
        TrustedKeys({})


def test_trusted_keys_refuse_a_key_of_the_wrong_size():
    with pytest.raises(KeyConfigError, match="32 bytes, not 5"):
        TrustedKeys({"k1": b"short"})


def test_several_kids_can_be_trusted_at_once():
    old, new = Signer("k1"), Signer("k2")
    keys = TrustedKeys({"k1": old.public_raw(), "k2": new.public_raw()})
    assert keys.verify(b"x", new.header(b"x"), version=1, sha256="s") == "k2"
    assert keys.verify(b"x", old.header(b"x"), version=1, sha256="s") == "k1"


def test_a_signature_by_a_trusted_kid_that_fails_is_bad_even_beside_unknown_kids():
    trusted, stranger = Signer("k1"), Signer("k9")
    keys = TrustedKeys({"k1": trusted.public_raw()})
    header = f"{stranger.header(b'x')},{trusted.header(b'other bytes')}"
    with pytest.raises(Refused) as caught:
        keys.verify(b"x", header, version=1, sha256="s")
    assert caught.value.reason == "bad_signature"


def test_key_file_accepts_the_server_key_list_shape(tmp_path, fleet):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [fleet.key_entry()]}))
    assert load_key_file(path) == {"k1": fleet.signer.public_raw()}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"keys": [{"kid": "k1", "alg": "RSA", "public_key": "AA=="}]}', "not Ed25519"),
        ('{"keys": [{"public_key": "AA=="}]}', "needs a 'kid'"),
        ('{"k1": "***"}', "not valid base64"),
    ],
)
def test_key_file_errors_name_the_problem(tmp_path, content, message):
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises(KeyConfigError, match=message):
        load_key_file(path)


def test_key_list_variable_parses_several_keys():
    a, b = Signer("a"), Signer("b")
    text = f"a={a.public_b64()}, b={b.public_b64()}"
    assert parse_key_list(text, "FLEET_TRUSTED_KEYS") == {"a": a.public_raw(), "b": b.public_raw()}


def _env(fleet, tmp_path, **extra):
    env = {
        "FLEET_SERVER": fleet.url,
        "FLEET_TOKEN": TOKEN,
        "FLEET_POLICY": "default",
        "FLEET_STATE_DIR": str(tmp_path / "state"),
        "FLEET_TRUSTED_KEYS": f"k1={fleet.signer.public_b64()}",
    }
    env.update(extra)
    return env


def test_config_from_environment_with_flags_winning(fleet, tmp_path):
    env = _env(fleet, tmp_path, FLEET_LABELS="region=eu,gpu=h100", FLEET_POLL_INTERVAL="5")
    config = parse_config(["--channel", "staging", "--label", "rack=7"], env)
    assert config.channel == "staging"
    assert config.poll_interval == 5.0
    assert config.labels == {"rack": "7"}
    assert parse_config([], env).labels == {"region": "eu", "gpu": "h100"}


@pytest.mark.parametrize(
    ("drop", "message"),
    [("FLEET_TOKEN", "--token"), ("FLEET_POLICY", "--policy"), ("FLEET_TRUSTED_KEYS", "trusted")],
)
def test_config_names_what_is_missing(fleet, tmp_path, drop, message):
    env = _env(fleet, tmp_path)
    del env[drop]
    with pytest.raises(ConfigError, match=message):
        parse_config([], env)


def test_config_refuses_a_non_positive_interval(fleet, tmp_path):
    with pytest.raises(ConfigError, match="--poll-interval must be positive"):
        parse_config(["--poll-interval", "0"], _env(fleet, tmp_path))


def test_built_agent_restores_polls_and_serves(fleet, tmp_path, models):
    fleet.publish(make_bundle(2))
    config = parse_config([], _env(fleet, tmp_path, FLEET_TENANT="acme"))
    agent = build_agent(config, models=models)
    assert not agent.restore()
    agent.poll_once()
    assert agent.check(prompt="sex").stamp.version == 2
    assert build_agent(config, models=models).restore()


def test_print_keys_prints_the_server_keys(fleet, tmp_path, capsys, monkeypatch):
    for name, value in _env(fleet, tmp_path).items():
        monkeypatch.setenv(name, value)
    assert main(["--print-keys"]) == 0
    assert json.loads(capsys.readouterr().out) == {"keys": [fleet.key_entry()]}


def test_main_exits_2_with_a_message_on_bad_configuration(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("FLEET_SERVER", raising=False)
    monkeypatch.delenv("FLEET_TOKEN", raising=False)
    assert main(["--policy", "default", "--state-dir", str(tmp_path)]) == 2
    assert "missing --server, --token" in capsys.readouterr().err


def test_help_runs_as_a_module():
    out = subprocess.run(
        [sys.executable, "-m", "moderation.fleet", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "--trusted-keys" in out
    assert "FLEET_POLL_INTERVAL" in out


def test_the_decision_log_is_on_by_default_with_its_caps(fleet, tmp_path, models):
    config = parse_config([], _env(fleet, tmp_path))
    assert (config.decision_log, config.upload_interval, config.upload_batch) == (True, 5.0, 500)
    assert (config.log_memory_mb, config.log_disk_mb) == (64.0, 256.0)
    agent = build_agent(config, models=models)
    log = build_decision_log(config, agent)
    assert agent.decision_log is log
    assert log.observe in agent.observers
    assert log.spool.directory == tmp_path / "state" / "decisions"
    assert (log.max_pending_bytes, log.spool.max_bytes) == (64 * 2**20, 256 * 2**20)


def test_decision_log_options_from_environment_and_flags(fleet, tmp_path, models):
    env = _env(fleet, tmp_path, FLEET_DECISION_LOG="off", FLEET_UPLOAD_INTERVAL="2",
               FLEET_LOG_DISK_MB="8")  # fmt: skip
    config = parse_config(["--upload-batch", "50", "--log-memory-mb", "16"], env)
    assert config.decision_log is False
    assert (config.upload_interval, config.upload_batch) == (2.0, 50)
    assert (config.log_memory_mb, config.log_disk_mb) == (16.0, 8.0)
    assert build_decision_log(config, build_agent(config, models=models)) is None
    assert parse_config(["--decision-log", "on"], env).decision_log is True


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--upload-batch", "0"], "--upload-batch must be between 1 and 1000"),
        (["--upload-batch", "5000"], "--upload-batch must be between 1 and 1000"),
        (["--decision-log", "maybe"], "--decision-log must be on or off"),
        (["--log-disk-mb", "0"], "--log-disk-mb must be positive"),
    ],
)
def test_bad_decision_log_options_are_refused_by_name(fleet, tmp_path, argv, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(argv, _env(fleet, tmp_path))
