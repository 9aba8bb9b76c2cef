"""The agent's configuration, from command-line flags with environment variables as defaults.

Every flag has a FLEET_* variable (see `python -m moderation.fleet --help`); a flag given
on the command line wins. The token is best passed by FLEET_TOKEN or --token-file, since
command lines are visible to other users of the machine.
"""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from moderation.fleet.keys import KeyConfigError, load_key_file, parse_key_list

DEFAULTS = {
    "channel": "production",
    "poll_interval": 15.0,
    "max_backoff": 300.0,
    "timeout": 10.0,
    "heartbeat_every": 20,
    "host": "127.0.0.1",
    "port": 8700,
    "upload_interval": 5.0,
    "upload_batch": 500,
    "log_memory_mb": 64.0,
    "log_disk_mb": 256.0,
    "max_queue": 512,
    "deadline_ms": 2000.0,
    "max_batch_items": 64,
}


class ConfigError(ValueError):
    """The configuration is incomplete or invalid; the message names the flag and variable."""


@dataclass
class AgentConfig:
    """Everything the agent needs to run; built by `parse_config`."""

    server: str
    token: str
    policy: str
    state_dir: Path
    trusted_keys: dict[str, bytes]
    channel: str = DEFAULTS["channel"]
    tenant: str | None = None
    poll_interval: float = DEFAULTS["poll_interval"]
    max_backoff: float = DEFAULTS["max_backoff"]
    timeout: float = DEFAULTS["timeout"]
    heartbeat_every: int = DEFAULTS["heartbeat_every"]
    instance_id: str = field(default_factory=socket.gethostname)
    labels: dict[str, str] = field(default_factory=dict)
    host: str = DEFAULTS["host"]
    port: int = DEFAULTS["port"]
    once: bool = False
    print_keys: bool = False
    decision_log: bool = True
    upload_interval: float = DEFAULTS["upload_interval"]
    upload_batch: int = DEFAULTS["upload_batch"]
    log_memory_mb: float = DEFAULTS["log_memory_mb"]
    log_disk_mb: float = DEFAULTS["log_disk_mb"]
    max_queue: int = DEFAULTS["max_queue"]
    deadline_ms: float = DEFAULTS["deadline_ms"]
    max_batch_items: int = DEFAULTS["max_batch_items"]
    # stage -> (max_batch, max_wait_ms); stages not named keep batching.DEFAULT_STAGES.
    batch_stages: dict[str, tuple[int, float]] = field(default_factory=dict)

    def service_settings(self):
        """The moderation service's settings from these flags."""
        from moderation.fleet.batching import DEFAULT_STAGES, BatchSettings, StageSettings
        from moderation.fleet.service import ServiceSettings

        stages = dict(DEFAULT_STAGES)
        stages.update({s: StageSettings(b, w) for s, (b, w) in self.batch_stages.items()})
        batch = BatchSettings(stages, self.max_queue, self.deadline_ms)
        return ServiceSettings(batch=batch, max_batch_items=self.max_batch_items)


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    """Return the argument parser; defaults come from `env`."""
    p = argparse.ArgumentParser(
        prog="python -m moderation.fleet",
        description="Fetch, verify and serve a signed policy bundle (see docs/fleet-agent.md).",
    )
    add = _adder(p, env)
    add("--server", "FLEET_SERVER", help="fleet server base URL, e.g. https://policies.example")
    add("--token", "FLEET_TOKEN", help="fleet token (prefer the variable or --token-file)")
    add("--token-file", "FLEET_TOKEN_FILE", help="file holding the fleet token")
    add("--tenant", "FLEET_TENANT", help="tenant slug the bundle must belong to (optional)")
    add("--policy", "FLEET_POLICY", help="policy slug")
    add("--channel", "FLEET_CHANNEL", help="channel to follow (default: production)")
    add("--state-dir", "FLEET_STATE_DIR", help="where the last good bundle is kept")
    add("--trusted-keys", "FLEET_TRUSTED_KEYS_FILE", help="JSON file of pinned public keys")
    add("--trusted-key-list", "FLEET_TRUSTED_KEYS", help="pinned keys: kid=<base64>[,kid=...]")
    add("--poll-interval", "FLEET_POLL_INTERVAL", type=float, help="seconds between polls (15)")
    add("--max-backoff", "FLEET_MAX_BACKOFF", type=float, help="backoff cap in seconds (300)")
    add("--timeout", "FLEET_TIMEOUT", type=float, help="HTTP timeout in seconds (10)")
    add("--heartbeat-every", "FLEET_HEARTBEAT_POLLS", type=int, help="report every N polls (20)")
    add("--instance-id", "FLEET_INSTANCE_ID", help="name reported to the server (hostname)")
    add("--label", "FLEET_LABELS", action="append", help="key=value, repeatable (or k=v,k=v)")
    add("--host", "FLEET_HOST", help="address of the health/decision endpoint (127.0.0.1)")
    add("--port", "FLEET_PORT", type=int, help="port of the health/decision endpoint (8700)")
    add("--decision-log", "FLEET_DECISION_LOG",
        help="on/off: send decision counts and sampled records to the server (on)")  # fmt: skip
    add("--upload-interval", "FLEET_UPLOAD_INTERVAL", type=float,
        help="seconds between decision uploads (5)")  # fmt: skip
    add("--upload-batch", "FLEET_UPLOAD_BATCH", type=int,
        help="records per upload, sent as soon as this many wait (500, at most 1000)")  # fmt: skip
    add("--log-memory-mb", "FLEET_LOG_MEMORY_MB", type=float,
        help="memory for records waiting to upload; the oldest drop past it (64)")  # fmt: skip
    add("--log-disk-mb", "FLEET_LOG_DISK_MB", type=float,
        help="disk in the state dir for batches the server did not take (256)")  # fmt: skip
    add(
        "--max-queue",
        "FLEET_MAX_QUEUE",
        type=int,
        help="inputs admitted and unanswered before 429 (512)",
    )
    add(
        "--deadline-ms",
        "FLEET_DEADLINE_MS",
        type=float,
        help="default per-request deadline in ms (2000)",
    )
    add(
        "--max-batch-items",
        "FLEET_MAX_BATCH_ITEMS",
        type=int,
        help="most items in one POST /v1/check/batch (64)",
    )
    add(
        "--batch-stage",
        "FLEET_BATCH_STAGES",
        action="append",
        help="STAGE=MAX_BATCH:MAX_WAIT_MS for prompt, image or concepts; repeatable "
        "(or a,b in the variable)",
    )
    p.add_argument("--once", action="store_true", help="restore, poll once, report and exit")
    p.add_argument(
        "--print-keys", action="store_true", help="print the server's public keys and exit"
    )
    return p


def _adder(parser: argparse.ArgumentParser, env: Mapping[str, str]):
    def add(flag: str, variable: str, **kwargs) -> None:
        # A repeatable flag replaces its variable (argparse would append to a default).
        value = None if kwargs.get("action") == "append" else env.get(variable) or None
        kwargs["help"] = f"{kwargs.get('help', '')} [env {variable}]"
        parser.add_argument(flag, default=value, **kwargs)

    return add


def parse_config(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None):
    """Return an AgentConfig from `argv` and `env`; raises ConfigError naming what is missing."""
    env = os.environ if env is None else env
    args = build_parser(env).parse_args(argv)
    token = _token(args)
    required = {"--server": args.server, "--token": token}
    if not args.print_keys:
        required.update({"--policy": args.policy, "--state-dir": args.state_dir})
    missing = [flag for flag, value in required.items() if not value]
    if missing:
        raise ConfigError(f"missing {', '.join(missing)} (or the FLEET_* variables; see --help)")
    keys = {} if args.print_keys else _trusted_keys(args)
    return AgentConfig(
        server=args.server, token=token, policy=args.policy or "",
        state_dir=Path(args.state_dir or "."), trusted_keys=keys,
        channel=args.channel or DEFAULTS["channel"], tenant=args.tenant,
        poll_interval=_positive(args.poll_interval, "poll_interval"),
        max_backoff=_positive(args.max_backoff, "max_backoff"),
        timeout=_positive(args.timeout, "timeout"),
        heartbeat_every=int(_positive(args.heartbeat_every, "heartbeat_every")),
        instance_id=args.instance_id or socket.gethostname(),
        labels=_labels(args.label or [env.get("FLEET_LABELS", "")]),
        host=args.host or DEFAULTS["host"],
        port=DEFAULTS["port"] if args.port is None else int(args.port),
        once=args.once, print_keys=args.print_keys,
        decision_log=_switch(args.decision_log, "--decision-log"),
        upload_interval=_positive(args.upload_interval, "upload_interval"),
        upload_batch=_batch(args.upload_batch),
        log_memory_mb=_positive(args.log_memory_mb, "log_memory_mb"),
        log_disk_mb=_positive(args.log_disk_mb, "log_disk_mb"),
        max_queue=int(_positive(args.max_queue, "max_queue")),
        deadline_ms=_positive(args.deadline_ms, "deadline_ms"),
        max_batch_items=int(_positive(args.max_batch_items, "max_batch_items")),
        batch_stages=_stages(args.batch_stage or [env.get("FLEET_BATCH_STAGES", "")]),
    )  # fmt: skip


def _positive(value, name: str) -> float:
    value = DEFAULTS[name] if value is None else float(value)
    if value <= 0:
        raise ConfigError(f"--{name.replace('_', '-')} must be positive, not {value}")
    return value


def _switch(value: str | None, flag: str) -> bool:
    word = (value or "on").strip().lower()
    if word in ("on", "true", "1", "yes"):
        return True
    if word in ("off", "false", "0", "no"):
        return False
    raise ConfigError(f"{flag} must be on or off, not {value!r}")


def _batch(value) -> int:
    value = DEFAULTS["upload_batch"] if value is None else int(value)
    if not 1 <= value <= 1000:
        raise ConfigError(f"--upload-batch must be between 1 and 1000, not {value}")
    return value


def _token(args: argparse.Namespace) -> str | None:
    if args.token:
        return args.token.strip()
    if not args.token_file:
        return None
    try:
        return Path(args.token_file).read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        raise ConfigError(f"--token-file {args.token_file}: {exc.strerror}") from None


def _trusted_keys(args: argparse.Namespace) -> dict[str, bytes]:
    try:
        keys = load_key_file(args.trusted_keys) if args.trusted_keys else {}
        keys.update(parse_key_list(args.trusted_key_list or "", "--trusted-key-list"))
    except KeyConfigError as exc:
        raise ConfigError(str(exc)) from None
    if not keys:
        raise ConfigError(
            "no trusted signing keys: pin them with --trusted-keys FILE or "
            "--trusted-key-list kid=<base64> (python -m moderation.fleet --print-keys lists "
            "the server's keys for you to check and pin)"
        )
    return keys


def _labels(values: Sequence[str]) -> dict[str, str]:
    labels = {}
    for entry in (item for value in values for item in value.split(",") if item.strip()):
        key, sep, value = entry.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"label {entry!r}: use key=value")
        labels[key.strip()] = value.strip()
    return labels


STAGE_NAMES = ("prompt", "image", "concepts")


def _stages(values: Sequence[str]) -> dict[str, tuple[int, float]]:
    stages = {}
    for entry in (item.strip() for value in values for item in value.split(",") if item.strip()):
        name, _, spec = entry.partition("=")
        size, _, wait = spec.partition(":")
        try:
            parsed = (int(size), float(wait))
        except ValueError:
            parsed = (0, -1.0)
        if name not in STAGE_NAMES or parsed[0] < 1 or parsed[1] < 0:
            raise ConfigError(
                f"--batch-stage {entry!r}: use STAGE=MAX_BATCH:MAX_WAIT_MS with STAGE one of "
                f"{', '.join(STAGE_NAMES)}, e.g. prompt=32:4"
            )
        stages[name] = parsed
    return stages
