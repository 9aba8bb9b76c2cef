"""Fleet agent costs on loopback: activating a 100k-term bundle, a 304 poll, a decision.

A minimal stdlib server plays the fleet API (signed body, ETag, 304); the agent is
the real one with fake models (keyword rules need none). Prints medians and p99s.

Run: python bench/bench_fleet_agent.py [--terms 100000] [--polls 300] [--checks 300]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import terms  # noqa: E402
from moderation.engine.bundle import Bundle, KeywordSet, PolicyInfo  # noqa: E402
from moderation.engine.decision import Action  # noqa: E402
from moderation.engine.providers import require_pins  # noqa: E402
from moderation.fleet.agent import FleetAgent  # noqa: E402
from moderation.fleet.client import FleetClient  # noqa: E402
from moderation.fleet.keys import TrustedKeys  # noqa: E402
from moderation.fleet.service import ModerationService, RunningServer  # noqa: E402
from moderation.fleet.store import StateStore  # noqa: E402
from moderation.fleet.verify import Scope  # noqa: E402


class NoModels:
    """Keyword-only bundles need no model; pins: none."""

    def pins(self):
        return {}

    def check_pins(self, required):
        require_pins(required, {})


def serve(body: bytes, key: Ed25519PrivateKey) -> ThreadingHTTPServer:
    sha = hashlib.sha256(body).hexdigest()
    signature = f"k1={base64.b64encode(key.sign(body)).decode()}"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.headers.get("If-None-Match") == f'"{sha}"':
                self.send_response(304)
                self.send_header("ETag", f'"{sha}"')
                self.send_header("Content-Length", "0")
                return self.end_headers()
            self.send_response(200)
            for name, value in (("ETag", f'"{sha}"'), ("X-Bundle-Version", "1"),
                                ("X-Bundle-Sha256", sha), ("X-Bundle-Signatures", signature),
                                ("Content-Length", str(len(body)))):  # fmt: skip
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"median {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms (n={len(ms)})"


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--terms", type=int, default=100_000)
    parser.add_argument("--polls", type=int, default=300)
    parser.add_argument("--checks", type=int, default=300)
    args = parser.parse_args()

    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    bundle = Bundle.create(
        policy=PolicyInfo("bench", "default", "Bench", 1, 1),
        pins={},
        keyword_sets=(KeywordSet("kw", "terms", Action.BLOCK, tuple(terms(args.terms))),),
    )
    body = bundle.to_bytes()
    server = serve(body, key)
    state = tempfile.mkdtemp(prefix="fleet-bench-")
    agent = FleetAgent(
        client=FleetClient(f"http://127.0.0.1:{server.server_address[1]}", "t"),
        keys=TrustedKeys({"k1": public}),
        scope=Scope("default", "production"),
        store=StateStore(state),
        models=NoModels(),
        instance_id="bench",
        heartbeat_every=10**9,
    )
    print(f"bundle: {args.terms} terms, {len(body) / 1e6:.1f} MB")
    print(f"first poll (download, digest, Ed25519, parse+compile, persist, swap): "
          f"{timed(agent.poll_once):.2f} s")  # fmt: skip
    assert agent.active is not None
    signature = key.sign(body)
    verify = timed(lambda: key.public_key().verify(signature, body))
    print(f"  of which Ed25519 verify over the body: {verify * 1000:.1f} ms")
    print(f"restart (restore from the state dir, full re-verification): "
          f"{timed(lambda: _restore(agent, state, public)):.2f} s")  # fmt: skip
    polls = [timed(agent.poll_once) for _ in range(args.polls)]
    print(f"304 poll, agent side: {percentiles(polls)}")

    http = RunningServer(ModerationService(agent).app)
    url = f"{http.url}/v1/check"
    payload = json.dumps({"prompt": "a quiet walk by the sea with my dog"}).encode()
    direct = [timed(lambda: agent.check(prompt="a quiet walk by the sea with my dog"))
              for _ in range(args.checks)]  # fmt: skip
    over_http = [timed(lambda: _post(url, payload)) for _ in range(args.checks)]
    print(f"check(), in process: {percentiles(direct)}")
    print(f"POST /v1/check, loopback: {percentiles(over_http)}")
    http.stop()
    server.shutdown()


def _restore(agent: FleetAgent, state: str, public: bytes) -> None:
    fresh = FleetAgent(
        client=agent.client,
        keys=TrustedKeys({"k1": public}),
        scope=agent.scope,
        store=StateStore(state),
        models=agent.models,
        instance_id="bench",
    )
    assert fresh.restore()


def _post(url: str, payload: bytes) -> None:
    request = urllib.request.Request(url, data=payload, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


if __name__ == "__main__":
    main()
