"""check() and the agent's moderation service over real HTTP (uvicorn on a free port):
503 before a bundle, stamped decisions, bad input, atomic swaps."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from moderation.fleet.agent import NoActiveBundle
from moderation.fleet.service import ModerationService, RunningServer, ServiceSettings
from tests.images import png_bytes

from .conftest import make_bundle


# The agent's own service (moderation/fleet/service.py), not a Django route: its paths
# (/healthz, /v1/check) are spelled out, as the interface that module documents.
@pytest.fixture
def endpoint(make_agent):
    """An agent (no bundle yet) with its service on a free port; yields (agent, url)."""
    agent = make_agent()
    server = RunningServer(ModerationService(agent).app)
    yield agent, server.url
    server.stop()


def call(url: str, payload: dict | bytes | None = None) -> tuple[int, dict]:
    data = payload if isinstance(payload, bytes | None) else json.dumps(payload).encode()
    method = "POST" if data is not None else "GET"
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def png_b64(rgb=(200, 10, 10)) -> str:
    return base64.b64encode(png_bytes(rgb)).decode()


def test_check_before_any_bundle_raises_a_clear_error(make_agent):
    with pytest.raises(NoActiveBundle, match="no bundle of default/production is active yet"):
        make_agent().check(prompt="hello")


def test_check_accepts_encoded_image_bytes(fleet, make_agent):
    fleet.publish(make_bundle(3))
    agent = make_agent()
    agent.poll_once()

    decision = agent.check(image=base64.b64decode(png_b64()))

    assert decision.action.value == "allow"
    assert decision.stamp.version == 3


def test_healthz_is_503_until_a_bundle_is_active_then_200(fleet, endpoint):
    agent, url = endpoint
    fleet.fail_with = 500
    agent.poll_once()

    status, body = call(f"{url}/healthz")
    assert status == 503
    assert body["status"] == "no_bundle"
    assert "HTTP 500" in body["last_error"]

    fleet.fail_with = None
    bundle = make_bundle(3)
    fleet.publish(bundle)
    agent.poll_once()
    status, body = call(f"{url}/healthz")
    assert status == 200
    assert (body["version"], body["sha256"], body["last_error"]) == (3, bundle.sha256, None)
    assert body["last_poll"] is not None


def test_check_endpoint_is_503_without_a_bundle(endpoint):
    _, url = endpoint
    status, body = call(f"{url}/v1/check", {"prompt": "hello"})
    assert status == 503
    assert "active yet" in body["message"]


def test_check_endpoint_returns_a_stamped_decision(fleet, endpoint):
    agent, url = endpoint
    bundle = make_bundle(3)
    fleet.publish(bundle)
    agent.poll_once()

    status, body = call(f"{url}/v1/check", {"prompt": "sex", "image_base64": png_b64()})

    assert status == 200
    assert body["action"] == "block"
    assert (body["stamp"]["version"], body["stamp"]["sha256"]) == (3, bundle.sha256)
    assert body["results"][0]["rule_id"] == "kw-v3"


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        ({}, 400, "nothing to check"),
        ({"prompt": 5}, 400, "prompt must be a string"),
        ({"prompt": "x", "colour": 1}, 400, "unknown field 'colour'"),
        ({"image_base64": "%%%"}, 400, "not valid base64"),
        ({"image_base64": base64.b64encode(b"GIF89a truncated").decode()}, 400, "image"),
    ],
)
def test_check_endpoint_refuses_bad_input_with_a_message(fleet, endpoint, payload, status, message):
    agent, url = endpoint
    fleet.publish(make_bundle(3))
    agent.poll_once()

    got_status, body = call(f"{url}/v1/check", payload)

    assert got_status == status
    assert message in body["message"]


def test_unknown_paths_are_404(endpoint):
    _, url = endpoint
    assert call(f"{url}/v2/check")[0] == 404
    assert call(f"{url}/v1/other", {"prompt": "x"})[0] == 404


def test_swaps_are_atomic_under_concurrent_checks(fleet, make_agent):
    agent = make_agent()
    bundles = {v: make_bundle(v) for v in range(1, 11)}
    fleet.publish(bundles[1])
    agent.poll_once()
    stop, seen, errors = threading.Event(), [], []

    def checker():
        while not stop.is_set():
            try:
                decision = agent.check(prompt="sex")
                seen.append((decision.stamp, decision.results[0].rule_id))
            except Exception as exc:  # noqa: BLE001 (collected and asserted below)
                errors.append(exc)
            time.sleep(0)  # let the polling thread have the GIL now and then

    threads = [threading.Thread(target=checker) for _ in range(2)]
    for t in threads:
        t.start()
    for version in range(2, 11):
        fleet.publish(bundles[version])
        assert agent.poll_once().changed
    stop.set()
    for t in threads:
        t.join()

    assert errors == []
    assert len({stamp.version for stamp, _ in seen}) > 1
    for stamp, rule_id in seen:
        # Each decision comes entirely from the bundle its stamp names.
        assert stamp.sha256 == bundles[stamp.version].sha256
        assert rule_id == f"kw-v{stamp.version}"


def test_a_slow_client_does_not_hold_back_another(fleet, make_agent):
    agent = make_agent()
    fleet.publish(make_bundle(3))
    agent.poll_once()
    server = RunningServer(ModerationService(agent, ServiceSettings(body_timeout_s=0.5)).app)
    host, port = server.host, server.port
    try:
        # One client sends half a body and stops; another sends half its headers.
        slow_body = socket.create_connection((host, port), timeout=5)
        slow_body.sendall(b"POST /v1/check HTTP/1.1\r\nHost: agent\r\nContent-Length: 50\r\n"
                          b"Content-Type: application/json\r\n\r\n{\"pro")  # fmt: skip
        slow_headers = socket.create_connection((host, port), timeout=5)
        slow_headers.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        start = time.monotonic()
        status, body = call(f"{server.url}/v1/check", {"prompt": "sex"})
        took = time.monotonic() - start

        assert (status, body["action"]) == (200, "block")
        assert took < 0.5
        answer = b""
        while b"}" not in answer:
            answer += slow_body.recv(4096)
        answer = answer.decode()
        assert answer.startswith("HTTP/1.1 408")
        assert "did not arrive within 0.5 s" in answer
    finally:
        slow_body.close()
        slow_headers.close()
        server.stop()
