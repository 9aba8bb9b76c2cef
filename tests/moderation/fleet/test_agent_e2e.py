"""The real fleet agent against the real server (pytest-django's live_server), over HTTP.

The agent talks to the live server through a small pass-through HTTP proxy: it
forwards every request unchanged, records the status the server answered, and on
demand alters what comes back (a tampered body, a replayed older version), the way a
compromised network or mirror would. Nothing in the agent or the server is mocked.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest
from django.urls import reverse

from moderation.engine.decision import Action
from moderation.fleet.__main__ import build_agent
from moderation.fleet.agent import FleetAgent
from moderation.fleet.config import AgentConfig
from moderation.fleet.keys import decode_b64
from policy_admin.fleet.services import fleet_token_create
from policy_admin.models import FleetInstance
from policy_admin.services import rules
from policy_admin.services.publishing import channel_promote, channel_rollback, policy_publish
from policy_admin.services.terms import terms_from_text
from tests.policy_admin.factories import (
    CategoryThresholdFactory,
    KeywordRuleSetFactory,
)

from .conftest import LoopbackServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fleet_isolated")]

# The fleet paths are spelled out, not reversed: the agent speaks the contract docs/fleet.md
# publishes, and the proxy sees the requests as the agent sends them.
CHANNEL_PATH = "/api/v1/fleet/policies/default/channels/production/bundle"
_HOP_BY_HOP = {"connection", "transfer-encoding", "content-length", "keep-alive", "date", "server"}


class Proxy(LoopbackServer):
    """Forwards to `upstream`; `mode` alters channel-bundle 200s: flip, forge or replay."""

    def __init__(self, upstream: str) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.mode: str | None = None
        self.replay_path: str | None = None
        self.answers: list[tuple[str, int]] = []  # (path, status the server answered)
        super().__init__()

    def bundle_statuses(self) -> list[int]:
        return [status for path, status in self.answers if path == CHANNEL_PATH]

    def forward(self, method: str, path: str, headers: dict, body: bytes | None):
        conn = http.client.HTTPConnection(*self.upstream, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def answer(self, method: str, path: str, headers: dict, body: bytes | None):
        if path == CHANNEL_PATH and self.mode == "replay":
            headers = {k: v for k, v in headers.items() if k.lower() != "if-none-match"}
            status, out, data = self.forward(method, self.replay_path, headers, body)
        else:
            status, out, data = self.forward(method, path, headers, body)
        self.answers.append((path, status))
        if path == CHANNEL_PATH and status == 200 and self.mode in ("flip", "forge"):
            data = data.replace(b'"block"', b'"allow"')
            if self.mode == "forge":  # the forger also fixes the digest headers
                forged = hashlib.sha256(data).hexdigest()
                out = {**out, "ETag": f'"{forged}"', "X-Bundle-Sha256": forged}
        return status, out, data

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                status, out, data = proxy.answer(self.command, self.path, headers, body)
                self.send_response(status)
                for name, value in out.items():
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _relay

        return Handler


@pytest.fixture
def proxy(live_server):
    server = Proxy(live_server.url)
    yield server
    server.close()


def pinned_keys(server_url: str) -> dict[str, bytes]:
    """The keys of the server's well-known document, as an operator pins them."""
    url = f"{server_url}/.well-known/moderation-bundle-keys.json"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http on loopback)
        keys = json.load(response)["keys"]
    return {k["kid"]: decode_b64(k["public_key"]) for k in keys}


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def make_agent(server: str, secret: str, keys: dict[str, bytes], state) -> FleetAgent:
    """The agent as `python -m moderation.fleet` wires it, models included."""
    config = AgentConfig(
        server=server,
        token=secret,
        policy="default",
        channel="production",
        tenant="acme",
        state_dir=state,
        trusted_keys=keys,
        timeout=2.0,
        instance_id="gpu-e2e-1",
        labels={"region": "eu"},
    )
    return build_agent(config)


def add_keywords(policy, actor, name: str, terms: str) -> None:
    policy.refresh_from_db()
    rules.keyword_set_save(
        policy=policy,
        actor=actor,
        revision=policy.revision,
        name=name,
        action="block",
        terms=terms_from_text(terms),
    )
    policy.refresh_from_db()


def publish_to_production(policy, actor):
    policy.refresh_from_db()
    version = policy_publish(policy=policy, actor=actor, revision=policy.revision)
    channel_promote(policy=policy, actor=actor, channel="production", number=version.number)
    return version


def rollout_page(client, user) -> str:
    client.force_login(user)
    url = reverse(
        "policy-channel", kwargs={"tenant": "acme", "slug": "default", "channel": "production"}
    )
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_agent_follows_publish_promote_rollback_refuses_forgeries_and_restarts_offline(
    live_server, proxy, tenant, policy, editor, admin, client, tmp_path
):
    KeywordRuleSetFactory(policy=policy, name="Gore", terms="gore\nbeheading", term_count=2)
    # A prompt category: the bundle pins the text scorer the agent must have loaded too.
    CategoryThresholdFactory(policy=policy, category="violence", applies_to="prompt")
    v1 = publish_to_production(policy, editor)
    _, secret = fleet_token_create(
        tenant=tenant, actor=admin, name="e2e", policies=[policy], channels=["production"]
    )
    keys = pinned_keys(live_server.url)
    agent = make_agent(proxy.url, secret, keys, tmp_path / "state")

    # Publish: the first poll downloads, verifies against the pinned key and activates v1.
    assert agent.poll_once().changed
    assert (agent.active.version, agent.active.sha256) == (1, v1.sha256)
    assert "text" in agent.active.compiled.bundle.pins
    assert agent.check(prompt="a beheading video").action is Action.BLOCK
    # The next poll sends the ETag and the server answers 304; nothing changes.
    assert not agent.poll_once().changed
    assert proxy.bundle_statuses() == [200, 304]
    assert agent.active.sha256 == v1.sha256

    # Promote: a new version on the channel replaces the active one at the next poll.
    add_keywords(policy, editor, "Drugs", "cocaine")
    v2 = publish_to_production(policy, editor)
    assert agent.poll_once().changed
    assert (agent.active.version, agent.active.sha256) == (2, v2.sha256)
    assert agent.check(prompt="a line of cocaine").action is Action.BLOCK

    # Rollback: a new, higher version with v1's rules, which anti-rollback accepts.
    channel_rollback(policy=policy, actor=editor, channel="production", number=1)
    assert agent.poll_once().changed
    assert agent.active.version == 3
    assert agent.check(prompt="a line of cocaine").action is Action.ALLOW
    assert agent.check(prompt="a beheading video").stamp.version == 3

    # A newer version arrives tampered: refused, v3 keeps serving, the server hears why.
    add_keywords(policy, editor, "Weapons", "rifle")
    v4 = publish_to_production(policy, editor)
    proxy.mode = "flip"
    result = agent.poll_once()
    assert result.refused.reason == "digest_mismatch"
    assert agent.active.version == 3
    assert agent.check(prompt="a beheading video").action is Action.BLOCK
    assert "digest_mismatch" in rollout_page(client, admin)

    # Forged with matching digest headers: only the signature can tell, and it does.
    proxy.mode = "forge"
    assert agent.poll_once().refused.reason == "bad_signature"
    assert agent.active.version == 3
    assert "bad_signature" in rollout_page(client, admin)

    # A replayed older version, genuinely signed: anti-rollback refuses it.
    proxy.mode = "replay"
    proxy.replay_path = "/api/v1/fleet/policies/default/versions/1/bundle"
    assert agent.poll_once().refused.reason == "rollback"
    assert agent.active.version == 3
    page = rollout_page(client, admin)
    assert "gpu-e2e-1" in page
    assert "v1: <code>rollback</code>" in page

    # The untouched v4 still gets through once the network behaves.
    proxy.mode = None
    assert agent.poll_once().changed
    assert (agent.active.version, agent.active.sha256) == (4, v4.sha256)

    # Restart with the server unreachable: the persisted v4 serves, stamped.
    restarted = make_agent(closed_port_url(), secret, keys, tmp_path / "state")
    assert restarted.restore()
    assert restarted.poll_once().failed
    assert "cannot reach the server" in restarted.health()["last_error"]
    decision = restarted.check(prompt="a rifle and a beheading")
    assert decision.action is Action.BLOCK
    assert (decision.stamp.version, decision.stamp.sha256) == (4, v4.sha256)


@pytest.mark.models  # the agent is a new process that loads its own models
def test_agent_process_fetches_verifies_and_reports_to_the_live_server(
    live_server, tenant, policy, editor, admin, tmp_path
):
    CategoryThresholdFactory(policy=policy, category="violence", applies_to="prompt")
    v1 = publish_to_production(policy, editor)
    _, secret = fleet_token_create(tenant=tenant, actor=admin, name="e2e")
    token_file = tmp_path / "token"
    token_file.write_text(secret)
    keys = ",".join(
        f"{kid}={base64.b64encode(raw).decode()}"
        for kid, raw in pinned_keys(live_server.url).items()
    )

    # A separate process, as an inference server runs it: its models are its own.
    done = subprocess.run(
        [sys.executable, "-m", "moderation.fleet", "--once", "--server", live_server.url,
         "--token-file", str(token_file), "--tenant", "acme", "--policy", "default",
         "--state-dir", str(tmp_path / "state"), "--trusted-key-list", keys,
         "--instance-id", "gpu-process-1"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    health = json.loads(done.stdout)
    assert (health["version"], health["sha256"]) == (1, v1.sha256)
    instance = FleetInstance.objects.get(tenant=tenant, instance_id="gpu-process-1")
    assert instance.bundles[0]["sha256"] == v1.sha256
    assert "text" in instance.models_loaded
