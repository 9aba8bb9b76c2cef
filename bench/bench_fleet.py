"""Fleet API under gunicorn on loopback: the 304 and 200 bundle paths against a constant view.

Run: python bench/bench_fleet.py [--seconds 5] [--concurrency 4] [--workers 2]

Sets up a throwaway SQLite database (migrate, one tenant, a published policy
promoted to `production`, a fleet token), starts gunicorn with the product's
URLs plus a constant Django view, and drives each path with a bounded load
generator: `concurrency` client processes, each sending one request at a time
for `seconds`. Prints requests/s, p50 and p99 per path and each path's
throughput as a ratio of the constant view's; and the CPU time the gunicorn
workers spent per request (from /proc, so it counts the server's work only,
not the load generator's nor the neighbours'), with the rate one core would
sustain at that cost, again as a ratio of the constant view's.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prepare(data_dir: Path) -> dict:
    """Migrate a fresh database and publish one policy; returns the token and sha256."""
    os.environ.update(
        MODERATION_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="bench.fleet_settings",
        LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1",
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from policy_admin.fleet.services import fleet_token_create
    from policy_admin.models import KeywordRuleSet, Policy
    from policy_admin.services.publishing import channel_promote, policy_publish
    from tenants.models import Tenant

    user = get_user_model().objects.create(username="bench")
    tenant = Tenant.objects.create(name="Bench", slug="bench")
    policy = Policy.objects.create(tenant=tenant, name="Default", slug="default")
    terms = "\n".join(f"term{i}" for i in range(2000))
    KeywordRuleSet.objects.create(
        tenant=tenant, policy=policy, name="Terms", terms=terms, term_count=2000
    )
    version = policy_publish(policy=policy, actor=user, revision=policy.revision)
    channel_promote(policy=policy, actor=user, channel="production", number=1)
    _, secret = fleet_token_create(tenant=tenant, actor=user, name="bench")
    return {"secret": secret, "sha256": version.sha256, "size": len(bytes(version.bundle))}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--log-level", "warning"],
        cwd=ROOT,
        env=os.environ.copy(),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start within 30 s")


def client(args) -> tuple[list[float], int]:
    port, path, headers, seconds, expect = args
    latencies, errors = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        latencies.append(time.perf_counter() - started)
        errors += response.status != expect
    return latencies, errors


def worker_cpu_seconds(master: int) -> float:
    """User + system CPU seconds of the gunicorn workers (the children of `master`)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == master:  # ppid; utime and stime follow at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(server, port, path, headers, expect, seconds, concurrency) -> dict:
    client((port, path, headers, 0.5, expect))  # warm: the worker's caches and connections
    with multiprocessing.Pool(concurrency) as pool:
        cpu = worker_cpu_seconds(server.pid)
        started = time.perf_counter()
        results = pool.map(client, [(port, path, headers, seconds, expect)] * concurrency)
        elapsed = time.perf_counter() - started
        cpu = worker_cpu_seconds(server.pid) - cpu
    latencies = sorted(x for lat, _ in results for x in lat)
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "cpu_ms": cpu * 1000 / len(latencies),
        "errors": sum(e for _, e in results),
    }


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        facts = prepare(Path(tmp))
        port = free_port()
        server = start_server(port, options.workers)
        try:
            auth = {"Authorization": f"Bearer {facts['secret']}"}
            bundle = "/api/v1/fleet/policies/default/channels/production/bundle"
            cases = [
                ("constant view", "/bench/constant", {}, 200),
                ("bundle 304", bundle, {**auth, "If-None-Match": f'"{facts["sha256"]}"'}, 304),
                (f"bundle 200 ({facts['size'] // 1024} KiB)", bundle, auth, 200),
            ]
            # Rounds interleave the paths, so a burst of load from elsewhere on the
            # machine hits them alike; each path's round with the median req/s is kept.
            runs = {name: [] for name, *_ in cases}
            for _ in range(options.rounds):
                for name, path, headers, expect in cases:
                    runs[name].append(
                        measure(
                            server,
                            port,
                            path,
                            headers,
                            expect,
                            options.seconds,
                            options.concurrency,
                        )  # fmt: skip
                    )
            rows = [(name, _median_run(r)) for name, r in runs.items()]
        finally:
            server.terminate()
            server.wait(10)
    floor = rows[0][1]
    cpu_floor = statistics.median(x["cpu_ms"] for x in runs[rows[0][0]])
    print(
        f"gunicorn -w {options.workers}, {options.concurrency} clients, {options.rounds} rounds "
        f"of {options.seconds:g} s per path (median round), load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'path':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs floor':>10}"
        f"{'cpu ms/req':>12}{'vs floor':>10}{'errors':>8}"
    )
    for name, r in rows:
        cpu = statistics.median(x["cpu_ms"] for x in runs[name])  # median over the rounds
        print(
            f"{name:<24}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
            f"{r['rps'] / floor['rps']:>9.2f}x{cpu:>12.3f}{cpu_floor / cpu:>9.2f}x{r['errors']:>8}"
        )


if __name__ == "__main__":
    main()
