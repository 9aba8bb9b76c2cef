"""Suite throughput (samples/s) against bare evaluate_batch on the same samples; prints a ratio.

    python bench/bench_suites.py [--samples 300] [--batch 32]

Builds the demo tenant's policy (keywords, embedding rules, a CLIP concept and
every category threshold) and the generated demo samples (a fifth with images)
in a throwaway SQLite database, then times:
- bare: evaluate_batch of the compiled draft bundle over the samples, inputs
  already decoded in memory, in batches;
- suite: the suite path a worker runs (scoring.run_suite): pending-sample query,
  image decode from media storage, evaluate, one transaction per batch storing
  results, progress and heartbeat.
Models are loaded (and warmed on one batch) before either is timed; the bare
run is timed before and after the suite and averaged, so drift in the load of a
shared machine shows in the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="bench-suites-"))
os.environ.update(
    DATABASE_URL=f"sqlite:///{WORK / 'db.sqlite3'}",
    DJANGO_MEDIA_ROOT=str(WORK / "media"),
    DJANGO_SETTINGS_MODULE="config.settings.base",
    HF_HUB_OFFLINE="1",
    TRANSFORMERS_OFFLINE="1",
)
os.environ.pop("CELERY_BROKER_URL", None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    run, items, registry, bundle = prepare(args.samples)
    from moderation.services import scoring

    scoring.evaluate_split_on_oom(bundle, items[: args.batch], registry)  # warm-up

    def bare_rate() -> float:
        start = time.perf_counter()
        for i in range(0, len(items), args.batch):
            scoring.evaluate_split_on_oom(bundle, items[i : i + args.batch], registry)
        return len(items) / (time.perf_counter() - start)

    from moderation.services import lifecycle

    bare_before = bare_rate()

    run = lifecycle.run_claim(run_id=run.pk, kind=run.kind, worker="bench")
    start = time.perf_counter()
    summary = scoring.run_suite(run, batch_size=args.batch)
    suite = run.progress_total / (time.perf_counter() - start)
    assert summary is not None
    assert run.sample_results.count() == len(items)
    bare_after = bare_rate()  # before and after, so load drift on a shared machine shows
    bare = (bare_before + bare_after) / 2

    print(f"samples {len(items)}, batch {args.batch}, device {registry.device_info()['device']}")
    drift = f"({bare_before:.1f} before, {bare_after:.1f} after the suite)"
    print(f"bare evaluate_batch  {bare:8.1f} samples/s {drift}")
    print(f"suite (run_suite)    {suite:8.1f} samples/s")
    print(f"suite / bare         {suite / bare:8.2f}")


def prepare(count: int):
    """The demo policy and samples, a queued suite, and the decoded inputs for the bare run."""
    from unittest import mock

    from django.contrib.auth import get_user_model

    from kernel.registry import compiled, models
    from moderation.demo.samples import demo_archive
    from moderation.services import samples, scoring, suites
    from policy_admin.bundles.builder import bundle_build
    from policy_admin.demo.seed import seed_floor, seed_policy
    from tenants.models import Tenant

    actor = get_user_model().objects.create(username="bench", is_staff=True)
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    seed_floor(actor=actor)
    policy = seed_policy(tenant=tenant, actor=actor)
    sample_set = samples.sample_set_create(tenant=tenant, actor=actor, name="bench")
    samples.sample_set_import(
        sample_set=sample_set, actor=actor, file_name="bench.zip", data=demo_archive(count)
    )
    with mock.patch("moderation.services.lifecycle.run_enqueue"):
        run = suites.suite_start(sample_set=sample_set, policy=policy, actor=actor)
    registry = models()
    bundle = compiled(bundle_build(policy=policy, models=registry).bundle)
    items = [scoring._sample_item(s) for s in sample_set.samples.order_by("id")]
    return run, items, registry, bundle


if __name__ == "__main__":
    main()
