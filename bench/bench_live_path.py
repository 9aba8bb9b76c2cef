"""Live test overhead: submit-to-stored-result vs a bare evaluate() of the same input.

One command, from the repository root:

    $(scripts/ensure-venv)/bin/python bench/bench_live_path.py [--runs 20]

It measures twice, each in a fresh throwaway SQLite database with the demo
policy: once on the embedded filesystem broker, once on Redis (REDIS_URL,
default redis://127.0.0.1:6379/13; skipped with a note when Redis is down).
For each it starts a real Celery worker, submits live tests one after the
other through the same service the console uses, and waits for each stored
result; the baseline, measured in the same run, is `evaluate()` on the same
compiled bundle and input in this process. Prints medians and the ratio.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "soldiers executing prisoners next to a meth lab, with an AK-47"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--mode", choices=["embedded", "redis"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        measure(args.mode, args.runs)
        return
    print(f"{'broker':<10} {'bare evaluate':>14} {'live path':>11} {'overhead':>10} {'ratio':>7}")
    for mode in ("embedded", "redis"):
        subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--runs", str(args.runs)],
            cwd=ROOT,
            check=False,
        )


def measure(mode: str, runs: int) -> None:
    data = Path(tempfile.mkdtemp(prefix=f"bench-live-{mode}-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "MODERATION_DATA_DIR": str(data),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    if mode == "redis":
        os.environ["CELERY_BROKER_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    else:
        os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    if mode == "redis" and not redis_up(os.environ["CELERY_BROKER_URL"]):
        print(f"{mode:<10} skipped: no Redis at {os.environ['CELERY_BROKER_URL']}")
        return
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    bare = bare_evaluate_ms(runs)
    with worker(data):
        live = live_path_ms(runs)
    print(
        f"{mode:<10} {bare:>11.1f} ms {live:>8.1f} ms {live - bare:>7.1f} ms {live / bare:>6.1f}x"
    )


def redis_up(url: str) -> bool:
    import redis

    try:
        return redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError:
        return False


def bare_evaluate_ms(runs: int) -> float:
    from kernel.registry import compiled, models
    from moderation.engine.evaluate import evaluate
    from policy_admin.bundles.builder import bundle_build
    from policy_admin.models import Policy

    registry = models()
    registry.warm_up()
    bundle = compiled(
        bundle_build(policy=Policy.objects.get(slug="default"), models=registry).bundle
    )
    evaluate(bundle, prompt=PROMPT, models=registry)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        evaluate(bundle, prompt=PROMPT, models=registry)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def live_path_ms(runs: int) -> float:
    from django.contrib.auth import get_user_model

    from moderation.models import TestRun
    from moderation.services.runs import live_test_start
    from policy_admin.models import Policy

    policy = Policy.objects.get(slug="default")
    editor = get_user_model().objects.get(username="acme-editor")
    times = []
    for n in range(runs + 1):  # the first one warms the worker's caches and is not counted
        start = time.perf_counter()
        run = live_test_start(policy=policy, actor=editor, prompt=PROMPT)
        while TestRun.objects.filter(pk=run.pk, status__in=["pending", "running"]).exists():
            time.sleep(0.005)
        if n:
            times.append((time.perf_counter() - start) * 1000)
        assert TestRun.objects.get(pk=run.pk).status == "succeeded"
    return statistics.median(times)


class worker:
    def __init__(self, data: Path):
        self.log = open(data / "worker.log", "w")  # noqa: SIM115

    def __enter__(self):
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "default,gpu",
                "-c",
                "1",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        from moderation.tasks.system import ping

        for queue in ("default", "gpu"):
            ping.apply_async(args=[queue], queue=queue).get(timeout=120)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


if __name__ == "__main__":
    main()
