"""Claiming under load: 8 reviewers (threads, each its own PostgreSQL connection) empty one
queue of 10k items; asserts no item is claimed twice and prints claim p50/p99 in ms.

    DATABASE_URL=postgres://... python bench/bench_review_claims.py [--items 10000] [--reviewers 8]

Needs PostgreSQL (SELECT ... FOR UPDATE SKIP LOCKED): the script creates a throwaway
database `bench_review_claims` on DATABASE_URL's server, migrates it,
and drops it at the end. Each reviewer claims, answers at once, and claims again until
the queue is empty; only `review_claim` is timed. A second pass with one reviewer on a
fresh queue (1,000 items by default: a claim walks the queue's index and stops, so its
cost does not grow with the queue) gives the uncontended figure, so the ratio shows
what contention costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.pop("CELERY_BROKER_URL", None)


PROGRESS_EVERY = 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def seed(items: int, reviewers: int, slug: str):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from moderation.models import DecisionBatch, DecisionRecord, ReviewItem, ReviewQueue
    from policy_admin.models import Policy, PolicyVersion
    from tenants.models import Tenant

    tenant = Tenant.objects.create(name=f"Bench {slug}", slug=slug)
    policy = Policy.objects.create(tenant=tenant, name="Bench", slug="bench")
    version = PolicyVersion.objects.create(
        tenant=tenant, policy=policy, number=1, bundle=b"", sha256="0" * 64, revision=1
    )
    batch = DecisionBatch.objects.create(
        tenant=tenant, policy=policy, batch_id="b", instance_id="bench"
    )
    now = timezone.now()
    records = DecisionRecord.objects.bulk_create(
        [
            DecisionRecord(
                tenant=tenant, policy=policy, version=version, batch=batch,
                request_id=f"r{i}", decided_at=now, channel="production", action="review",
                reasons=["review"], prompt=f"prompt {i}",
            )
            for i in range(items)
        ],
        batch_size=2000,
    )  # fmt: skip
    queue = ReviewQueue.objects.create(tenant=tenant, name="Bench", slug="bench", is_default=True)
    ReviewItem.objects.bulk_create(
        [ReviewItem(tenant=tenant, queue=queue, record=r) for r in records], batch_size=2000
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after a bulk load
    users = [
        get_user_model().objects.create_user(f"{slug}-reviewer-{i}", password=None)
        for i in range(reviewers)
    ]
    return queue, users


def drain(queue, users) -> tuple[list[float], list[int], float]:
    """Every user claims and answers until nothing is left; (claim ms, claimed ids, seconds)."""
    from django.db import connection

    from moderation.models import ReviewClaim
    from moderation.services.review import review_answer, review_claim

    timings: list[float] = []
    claimed: list[int] = []
    progress: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(len(users))

    def reviewer(user):
        mine, ids = [], []
        try:
            start.wait()
            while True:
                t0 = time.perf_counter()
                item = review_claim(queue, user)
                mine.append((time.perf_counter() - t0) * 1000)
                if item is None:
                    break
                ids.append(item.pk)
                with lock:
                    progress.append(mine[-1])
                    if len(progress) % PROGRESS_EVERY == 0:
                        print(
                            f"  {len(progress)} claims: p50 {statistics.median(progress):.0f} ms, "
                            f"p99 {percentile(progress, 0.99):.0f} ms",
                            flush=True,
                        )
                claim = ReviewClaim.objects.get(item=item, reviewer=user, answered_at=None)
                review_answer(claim, user, "allow", [], 1.0)
        finally:
            connection.close()
        with lock:
            timings.extend(mine[:-1])  # the last, empty-handed claim is not a claim
            claimed.extend(ids)

    threads = [threading.Thread(target=reviewer, args=(u,)) for u in users]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings, claimed, time.perf_counter() - t0


def report(name: str, timings: list[float], claimed: list[int], seconds: float, items: int):
    assert len(claimed) == items, f"{name}: {len(claimed)} claims for {items} items"
    assert len(set(claimed)) == len(claimed), f"{name}: an item was claimed twice"
    print(
        f"{name}: {len(claimed)} claims, none twice, in {seconds:.1f} s "
        f"({len(claimed) / seconds:.0f}/s); claim p50 {statistics.median(timings):.1f} ms, "
        f"p99 {percentile(timings, 0.99):.1f} ms"
    )
    return percentile(timings, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--reviewers", type=int, default=8)
    parser.add_argument("--alone-items", type=int, default=1000, help="the one-reviewer pass")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: claiming needs SKIP LOCKED.")

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = "bench_review_claims"

    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        queue, users = seed(args.items, args.reviewers, "bench-many")
        many = report(f"{args.reviewers} reviewers", *drain(queue, users), args.items)
        queue, users = seed(args.alone_items, 1, "bench-one")
        one = report("1 reviewer", *drain(queue, users), args.alone_items)
        print(f"p99 with {args.reviewers} reviewers / p99 alone: {many / one:.2f}x")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
