"""Agent throughput with the decision log on against off, in one run (issue 13: >= 0.95x).

The real FleetAgent serves a keyword bundle (fake models: keyword rules need none) that
carries sampling rules. Two loads: prompts alone (the cheapest check, so the log's share
is largest), and prompts with an encoded 512x512 JPEG (kept decisions then cost a JPEG
thumbnail and a sha256 on the uploader thread). The log uploads to a stdlib stand-in of
the ingest endpoint on loopback every second. Rounds with the log attached and
detached alternate, so both see the same machine load; the ratio is the median of the
paired rounds' ratios. The observer's own cost per decision is timed alone as well.

Run: python bench/bench_agent_log.py [--checks 300] [--rounds 21] [--audit-share 0.01]
     [--keep-blocks]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_fleet_agent import NoModels  # noqa: E402
from bench.corpus import terms  # noqa: E402
from moderation.engine.bundle import Bundle, KeywordSet, PolicyInfo, Sampling  # noqa: E402
from moderation.engine.compiled import compile_bundle  # noqa: E402
from moderation.engine.decision import Action  # noqa: E402
from moderation.fleet.agent import Active, FleetAgent  # noqa: E402
from moderation.fleet.client import FleetClient  # noqa: E402
from moderation.fleet.decision_log import DecisionLog  # noqa: E402
from moderation.fleet.keys import TrustedKeys  # noqa: E402
from moderation.fleet.store import StateStore  # noqa: E402
from moderation.fleet.verify import Scope  # noqa: E402

PROMPTS = [
    "a quiet walk by the sea with my dog",
    "a gore scene in an old film",  # review
    "a portrait of an old fisherman",
    "sex on the beach cocktail",  # block
    "a city street at night in the rain",
]


def ingest_stand_in() -> tuple[ThreadingHTTPServer, list[int]]:
    """Answer every batch 201 like the ingest endpoint; count the records received."""
    received: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            # Not parsed: a real server is another process, this one shares the agent's GIL.
            data = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(data.count(b'"request_id":'))
            batch_id = re.search(rb'"batch_id":"([^"]+)"', data).group(1).decode()
            body = json.dumps({"batch_id": batch_id, "stored": received[-1],
                               "duplicate": False}).encode()  # fmt: skip
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, received


def make_agent(sampling: Sampling, n_terms: int, url: str) -> FleetAgent:
    bundle = Bundle.create(
        policy=PolicyInfo("bench", "default", "Bench", 1, 1),
        pins={},
        keyword_sets=(
            KeywordSet("kw-block", "terms", Action.BLOCK, ("sex", *terms(n_terms))),
            KeywordSet("kw-review", "gore", Action.REVIEW, ("gore",)),
        ),
        sampling=sampling,
    )
    agent = FleetAgent(
        client=FleetClient(url, "t"),
        keys=TrustedKeys({"k1": bytes(32)}),  # never used: the bundle is swapped in directly
        scope=Scope("default", "production"),
        store=StateStore(tempfile.mkdtemp(prefix="fleet-log-bench-")),
        models=NoModels(),
        instance_id="bench",
    )
    compiled = compile_bundle(bundle)
    agent._swap(Active(compiled, compiled.sha256, "", time.time()))
    return agent


def throughput(agent: FleetAgent, checks: int, image: bytes | None) -> float:
    start = time.perf_counter()
    for i in range(checks):
        agent.check(prompt=PROMPTS[i % len(PROMPTS)], image=image, request_id=f"r{i}")
    return checks / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--audit-share", type=float, default=0.01)
    parser.add_argument("--keep-blocks", action="store_true", help="keep every block (1 in 5)")
    args = parser.parse_args()

    sampling = Sampling(audit_share=args.audit_share, keep_blocks=args.keep_blocks)
    server, received = ingest_stand_in()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    agent = make_agent(sampling, args.terms, url)
    # A smooth picture, as generated images mostly are (noise would make decoding dominate).
    gradient = Image.linear_gradient("L").resize((512, 512))
    encoded = io.BytesIO()
    Image.merge("RGB", (gradient, gradient.rotate(90), gradient.rotate(180))).save(
        encoded, format="JPEG", quality=90
    )
    image = encoded.getvalue()
    log = DecisionLog(client=agent.client, policy="default", channel="production",
                      instance_id="bench", spool_dir=Path(agent.store.directory) / "decisions",
                      upload_interval=1.0)  # fmt: skip
    log.start()
    print(f"bundle: {args.terms + 1} block terms + 1 review term; sampling {sampling}")
    print(f"checks per round: {args.checks}, rounds: {args.rounds}")
    ratios = [compare(agent, log, args, None, "prompt only"),
              compare(agent, log, args, image, "prompt + 512x512 JPEG")]  # fmt: skip
    log.stop()
    server.shutdown()
    print(f"observer alone: {observer_cost(agent, sampling) * 1e6:.1f} us per decision")
    stats = log.stats()
    print(f"records uploaded: {sum(received)} in {len(received)} batches; "
          f"dropped {stats['dropped']}, pending {stats['pending']}")  # fmt: skip
    print(f"throughput with the log on / off: {min(ratios):.3f}x at worst (target >= 0.95x)")


def observer_cost(agent: FleetAgent, sampling: Sampling, n: int = 20_000) -> float:
    """Seconds one observe() call takes per decision (a fresh log, nothing uploaded)."""
    log = DecisionLog(client=agent.client, policy="default", channel="production",
                      instance_id="bench", spool_dir=None)  # fmt: skip
    seen: list = []
    agent.observers.append(seen.extend)
    agent.check(prompt=PROMPTS[0], request_id="r")
    agent.observers.remove(seen.extend)
    start = time.perf_counter()
    for _ in range(n):
        log.observe(seen)
    return (time.perf_counter() - start) / n


def compare(agent, log, args, image, label: str) -> float:
    """Alternate rounds without and with the log; print and return the ratio of medians."""
    throughput(agent, 200, image)  # warm up caches and the automaton
    off, on = [], []
    for _ in range(args.rounds):
        off.append(throughput(agent, args.checks, image))
        log.attach(agent)
        on.append(throughput(agent, args.checks, image))
        agent.observers.remove(log.observe)
    # Each on round is compared with the off round just before it, so load that drifts
    # between rounds (other work on the machine) cancels out; the median pair is reported.
    # The best rounds are the least disturbed by other work: their ratio is shown too.
    ratio = statistics.median(b / a for a, b in zip(off, on, strict=True))
    print(f"{label}: log off median {statistics.median(off):.0f} checks/s, "
          f"on {statistics.median(on):.0f} checks/s; median paired ratio {ratio:.3f}x; "
          f"best rounds {max(off):.0f} vs {max(on):.0f}: {max(on) / max(off):.3f}x")  # fmt: skip
    return ratio


if __name__ == "__main__":
    main()
