"""The latency half of bench/bench_serving.py: lone against half-peak latency, the sweep.

Run through bench/bench_serving.py (`--latency [--compare-wait]`, `--sweep`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.bench_serving import BENCH_BATCH, build_agent, note, pct, run_clients


def latency_runs(url, prompt_file, peak: float, seconds: float, rounds: int = 4, answers=400):
    """A lone client's latencies and those of an open-loop load at half of `peak` req/s.

    The two alternate in `rounds` pairs of windows and each pools its rounds, so both see
    the same machine load (other processes come and go on a shared machine). The
    open-loop windows add up to `answers` at least, so the p99 is not just the slowest
    few requests; each window starts after its clients' warm-up requests.
    """
    note(f"latency: a lone client and 50% of peak, alternating, {rounds} rounds")
    half_seconds = max(seconds, answers / max(peak / 2, 1e-9)) / rounds
    lone_seconds = max(seconds / 2 / rounds, 2.0)
    lone, half = [], []
    for _ in range(rounds):
        lone.append(run_clients(url, prompt_file, seconds=lone_seconds, concurrency=1))
        half.append(run_clients(url, prompt_file, seconds=half_seconds, rate=peak / 2))
    return _pooled(lone), _pooled(half)


def _pooled(runs: list[dict]) -> dict:
    errors: dict[str, int] = {}
    for run in runs:
        for status, count in run["errors"].items():
            errors[status] = errors.get(status, 0) + count
    latencies = [x for run in runs for x in run["latencies"]]
    elapsed = sum(run["elapsed"] for run in runs)
    return {"n": len(latencies), "elapsed": elapsed, "errors": errors, "latencies": latencies}


def print_latency(lone: dict, half: dict, peak: float) -> None:
    lone_p50 = pct(lone["latencies"], 50)
    half_p99 = pct(half["latencies"], 99)
    print(f"lone request p50 {lone_p50:.1f} ms ({lone['n']} requests); at 50% of peak "
          f"({peak / 2:.1f}/s offered, {half['n'] / half['elapsed']:.1f}/s served, {half['n']} "
          f"requests) p50 {pct(half['latencies'], 50):.1f} ms, p99 {half_p99:.1f} ms: "
          f"p99 / lone p50 = {half_p99 / lone_p50:.2f}x (target <= 3x) "
          f"{half['errors'] or ''}")  # fmt: skip


def latency_only(models, compiled, texts, seconds, *, compare_wait: bool = False) -> None:
    """The prompt peak with 32 clients, then the latency figure, on the default settings.

    With `compare_wait`, a second service whose stages always wait `max_wait_ms` for
    company (the batcher before it learned to skip the wait when no company is coming)
    is measured in the same rounds, for an A/B in one run.
    """
    from moderation.fleet import batching
    from moderation.fleet.service import ModerationService, RunningServer, ServiceSettings

    with tempfile.TemporaryDirectory() as tmp:
        agent = build_agent(models, compiled, Path(tmp) / "state")
        prompt_file = Path(tmp) / "prompts.jsonl"
        prompt_file.write_text("".join(json.dumps({"prompt": t}) + "\n" for t in texts))
        settings = ServiceSettings(batch=batching.BatchSettings(**BENCH_BATCH))
        server = RunningServer(ModerationService(agent, settings).app)
        servers = {"skips the wait when no company is coming": server}
        if compare_wait:
            always = ModerationService(agent, settings)
            for stage in always.batcher.stages.values():
                stage.company_expected = lambda wait: True
            servers["always waits max_wait_ms"] = RunningServer(always.app)
        note("prompts: service peak")
        svc = run_clients(server.url, prompt_file, seconds=seconds)
        peak = svc["n"] / svc["elapsed"]
        results = {name: ([], []) for name in servers}
        for _ in range(4 if compare_wait else 1):
            for name, running in servers.items():
                lone, half = (
                    latency_runs(running.url, prompt_file, peak, seconds / 4, 1, answers=100)
                    if compare_wait
                    else latency_runs(running.url, prompt_file, peak, seconds)
                )
                results[name][0].append(lone)
                results[name][1].append(half)
        note("prompts: service peak again")
        again = run_clients(server.url, prompt_file, seconds=seconds)
        for running in servers.values():
            running.stop()
    print(f"prompt peak with 32 clients: {peak:.1f}/s before the latency runs, "
          f"{again['n'] / again['elapsed']:.1f}/s after (a large change means the machine's "
          "load moved and the half-peak rate was not half of it)")  # fmt: skip
    for name, (lones, halves) in results.items():
        print(f"{name}:")
        print_latency(_pooled(lones), _pooled(halves), peak)


# (prompt max_batch, max_wait_ms, max_queue, default deadline ms, clients)
SWEEP = [
    (1, 0.0, 512, 2000.0, 32),
    (8, 4.0, 512, 2000.0, 32),
    (32, 0.0, 512, 2000.0, 32),
    (32, 4.0, 512, 2000.0, 32),
    (32, 16.0, 512, 2000.0, 32),
    (64, 4.0, 512, 2000.0, 32),
    (32, 4.0, 512, 2000.0, 128),
    (32, 4.0, 64, 2000.0, 128),
    (32, 4.0, 512, 250.0, 128),
]


def sweep(models, compiled, texts, seconds) -> None:
    from moderation.fleet.batching import DEFAULT_STAGES, BatchSettings, StageSettings
    from moderation.fleet.service import ModerationService, RunningServer, ServiceSettings

    print(f"{'batch':>5} {'wait ms':>7} {'queue':>5} {'deadline':>8} {'clients':>7} "
          f"{'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  refused")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        agent = build_agent(models, compiled, Path(tmp) / "state")
        payloads = Path(tmp) / "prompts.jsonl"
        payloads.write_text("".join(json.dumps({"prompt": t}) + "\n" for t in texts))
        for size, wait, queue, deadline, clients in SWEEP:
            stages = {**DEFAULT_STAGES, "prompt": StageSettings(size, wait)}
            batch = BatchSettings(stages, max_queue=queue, default_deadline_ms=deadline)
            server = RunningServer(ModerationService(agent, ServiceSettings(batch=batch)).app)
            got = run_clients(server.url, payloads, seconds=seconds, concurrency=clients)
            server.stop()
            lat = got["latencies"]
            print(f"{size:>5} {wait:>7g} {queue:>5} {deadline:>8g} {clients:>7} "
                  f"{got['n'] / got['elapsed']:>7.1f} {pct(lat, 50):>7.0f} {pct(lat, 99):>7.0f}"
                  f"  {got['errors'] or ''}", flush=True)  # fmt: skip
