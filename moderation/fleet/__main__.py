"""`python -m moderation.fleet`: run the fleet agent (see docs/fleet-agent.md)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from moderation.fleet.agent import FleetAgent
from moderation.fleet.client import FleetClient
from moderation.fleet.config import AgentConfig, ConfigError, parse_config
from moderation.fleet.decision_log import DecisionLog
from moderation.fleet.keys import TrustedKeys
from moderation.fleet.refusal import Refused
from moderation.fleet.schedule import Schedule
from moderation.fleet.shadow import ShadowEvaluator
from moderation.fleet.store import StateStore
from moderation.fleet.verify import Scope


def build_agent(config: AgentConfig, models=None) -> FleetAgent:
    """Return an agent wired from `config`; `models` defaults to the registry the web runs.

    That is the MODERATION_* configuration with the catalogue's prompt examples, so the
    agent has every model pin a bundle published by the web can record.
    """
    if models is None:
        from moderation.engine.models.registry import RegistryConfig, configure_registry

        models = configure_registry(RegistryConfig.from_env().with_catalogue_examples())
    return FleetAgent(
        client=FleetClient(config.server, config.token, timeout=config.timeout),
        keys=TrustedKeys(config.trusted_keys),
        scope=Scope(config.policy, config.channel, config.tenant),
        store=StateStore(config.state_dir),
        models=models,
        instance_id=config.instance_id,
        labels=config.labels,
        heartbeat_every=config.heartbeat_every,
    )


def build_decision_log(config: AgentConfig, agent: FleetAgent) -> DecisionLog | None:
    """Return the decision log attached to `agent` (not started), or None when it is off."""
    if not config.decision_log:
        return None
    mib = 1024 * 1024
    return DecisionLog(
        client=agent.client,
        policy=config.policy,
        channel=config.channel,
        instance_id=config.instance_id,
        spool_dir=config.state_dir / "decisions",
        upload_interval=config.upload_interval,
        batch_size=config.upload_batch,
        max_pending_bytes=int(config.log_memory_mb * mib),
        max_spool_bytes=int(config.log_disk_mb * mib),
        max_backoff=config.max_backoff,
    ).attach(agent)


def print_keys(config: AgentConfig) -> int:
    """Print the server's public keys in the trusted-keys file format, for a person to check."""
    keys = FleetClient(config.server, config.token, timeout=config.timeout).fetch_keys()
    print(json.dumps({"keys": keys}, indent=2))
    print(
        "# Check these fingerprints out of band before pinning them with --trusted-keys.",
        file=sys.stderr,
    )
    return 0


def run(config: AgentConfig) -> int:
    """Restore, then poll once (--once) or poll forever while serving the moderation service.

    uvicorn runs in the main thread (it handles SIGINT and SIGTERM); the agent polls on a
    thread of its own and stops when the server does.
    """
    agent = build_agent(config)
    agent.restore()
    if config.once:
        result = agent.poll_once()
        print(json.dumps(agent.health(), indent=2))
        return 0 if agent.active is not None and not result.failed else 1
    decisions = build_decision_log(config, agent)
    # Shadow results travel in the decision log's batches: without the log, the shadow is
    # still fetched and verified (and reported) but not evaluated.
    shadow_eval = ShadowEvaluator(agent, decisions).attach() if decisions is not None else None
    if decisions is not None:
        decisions.start()
        shadow_eval.start()
    import uvicorn

    from moderation.fleet.service import ModerationService, uvicorn_config

    service = ModerationService(agent, config.service_settings())
    stop = threading.Event()
    poller = threading.Thread(
        target=agent.run,
        args=(stop, Schedule(config.poll_interval, max_backoff=config.max_backoff)),
        name="fleet-poll",
        daemon=True,
    )
    poller.start()
    # uvicorn handles SIGINT/SIGTERM while it serves, then raises them again once shut
    # down; these handlers receive that and let the agent stop polling and exit with 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    logging.getLogger("moderation.fleet").info(
        "serving /v1/check, /v1/check/batch, /healthz, /readyz and /metrics on %s:%s",
        config.host, config.port,
    )  # fmt: skip
    try:
        uvicorn.Server(uvicorn_config(service.app, config.host, config.port)).run()
    finally:
        stop.set()
        poller.join(timeout=config.timeout + 5)
        if shadow_eval is not None:
            shadow_eval.stop()  # judges what is queued, so its counts reach the log
        if decisions is not None:
            decisions.stop()  # sends or spills what is pending
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (2 for configuration errors)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["batch"]:
        from moderation.fleet.batch import main as batch_main

        return batch_main(args[1:])
    try:
        config = parse_config(args)
        return print_keys(config) if config.print_keys else run(config)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Refused as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
