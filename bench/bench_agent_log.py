"""Agent throughput with the decision log on against off, in one run (issue 13: >= 0.95x).

The real FleetAgent serves a keyword bundle (fake models: keyword rules need none) that
carries sampling rules. Three loads: the agent's check endpoint as the fleet calls it
(`POST /v1/check` of its moderation service, 32 clients in a subprocess, prompts only);
in-process `agent.check()` with prompts alone (the cheapest check there is, without the
HTTP side, so the log's share is largest); and in-process with an encoded 512x512 JPEG
(kept decisions then cost a JPEG thumbnail and a sha256 on the uploader thread). The log
uploads to a stdlib stand-in of the ingest endpoint every second; the stand-in runs in a
subprocess, as the real server is another process (in this process it would take the
agent's interpreter lock). Rounds with the log attached and detached alternate, so both see
the same machine load; the ratio is the median of the paired rounds' ratios. The observer's
own cost per decision is timed alone as well.

Run: python bench/bench_agent_log.py [--checks 300] [--rounds 21] [--audit-share 0.01]
     [--keep-blocks] [--service-seconds 3] [--service-rounds 5]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
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


def serve_ingest() -> None:
    """Answer every batch 201 like the ingest endpoint, in this (separate) process.

    The real server is another process, so the stand-in must not share the agent's
    interpreter lock. It prints its port, and GET answers the records and batches received.
    """
    received = [0, 0]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self._answer(200, {"records": received[0], "batches": received[1]})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received[0] += len(body["records"])
            received[1] += 1
            self._answer(201, {"batch_id": body["batch_id"], "stored": len(body["records"]),
                               "duplicate": False})  # fmt: skip

        def _answer(self, status: int, answer: dict) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class IngestProcess:
    """The ingest stand-in in a subprocess; `received()` asks it what came."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-ingest"], stdout=subprocess.PIPE, text=True
        )
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"

    def received(self) -> dict:
        with urllib.request.urlopen(self.url, timeout=10) as answer:  # noqa: S310 (loopback)
            return json.load(answer)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


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
    if sys.argv[1:] == ["--serve-ingest"]:
        return serve_ingest()
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--audit-share", type=float, default=0.01)
    parser.add_argument("--keep-blocks", action="store_true", help="keep every block (1 in 5)")
    parser.add_argument("--service-seconds", type=float, default=3.0)
    parser.add_argument("--service-rounds", type=int, default=5)
    args = parser.parse_args()

    sampling = Sampling(audit_share=args.audit_share, keep_blocks=args.keep_blocks)
    ingest = IngestProcess()
    agent = make_agent(sampling, args.terms, ingest.url)
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
    service = compare_service(agent, log, args)
    ratios = [compare(agent, log, args, None, "in-process, prompt only"),
              compare(agent, log, args, image, "in-process, prompt + 512x512 JPEG")]  # fmt: skip
    log.stop()
    received = ingest.received()
    ingest.stop()
    print(f"observer alone: {observer_cost(agent, sampling) * 1e6:.1f} us per decision")
    stats = log.stats()
    print(f"records uploaded: {received['records']} in {received['batches']} batches; "
          f"dropped {stats['dropped']}, pending {stats['pending']}")  # fmt: skip
    print(f"throughput with the log on / off: the check endpoint {service:.3f}x "
          f"(target >= 0.95x); in-process {min(ratios):.3f}x at worst")  # fmt: skip


def observer_cost(agent: FleetAgent, sampling: Sampling, n: int = 20_000) -> float:
    """Seconds one observe() call takes per decision (a fresh log, nothing uploaded).

    It observes the batches the agent hands its observers, one per prompt of the load.
    """
    log = DecisionLog(client=agent.client, policy="default", channel="production",
                      instance_id="bench", spool_dir=None)  # fmt: skip
    seen: list = []
    agent.observers.append(seen.append)
    for i, prompt in enumerate(PROMPTS):
        agent.check(prompt=prompt, request_id=f"r{i}")
    agent.observers.remove(seen.append)
    start = time.perf_counter()
    for i in range(n):
        log.observe(seen[i % len(seen)])
    return (time.perf_counter() - start) / n


def compare_service(agent, log, args) -> float:
    """The agent's check endpoint (its moderation service) with the log attached and not,
    in alternating rounds of `--service-seconds`; the median paired ratio."""
    from bench.bench_serving import run_clients
    from moderation.fleet.service import ModerationService, RunningServer

    server = RunningServer(ModerationService(agent).app)
    payloads = Path(tempfile.mkdtemp(prefix="fleet-log-bench-")) / "prompts.jsonl"
    payloads.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in PROMPTS))
    seconds = args.service_seconds
    try:
        run_clients(server.url, payloads, seconds=1.0)  # warm up
        off, on = [], []
        for _ in range(args.service_rounds):
            answer = run_clients(server.url, payloads, seconds=seconds)
            off.append(answer["n"] / answer["elapsed"])
            log.attach(agent)
            answer = run_clients(server.url, payloads, seconds=seconds)
            on.append(answer["n"] / answer["elapsed"])
            agent.observers.remove(log.observe)
    finally:
        server.stop()
    ratio = statistics.median(b / a for a, b in zip(off, on, strict=True))
    print(f"check endpoint (POST /v1/check, 32 clients): log off median "
          f"{statistics.median(off):.0f} checks/s, on {statistics.median(on):.0f} checks/s; "
          f"median paired ratio {ratio:.3f}x")  # fmt: skip
    return ratio


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
