"""Decision ingest: records/s through the upload endpoint against a bare bulk_create of the rows.

Run: python bench/bench_ingest.py [--records 20000] [--batch 500] [--repeat 3]
     [--database postgres://postgres@127.0.0.1:5432/bench_ingest]

Creates (or empties) the given PostgreSQL database, migrates it, publishes one
policy and makes a fleet token. Then, in one run and on the same rows:
- endpoint: POST /api/v1/fleet/policies/default/decisions through Django's full
  request path (middleware, token, JSON parse, validation, version check, bulk
  insert, per-minute counter upsert, review routing), `--batch` records a post;
- baseline: `DecisionRecord.objects.bulk_create` of the same rows, already built
  as model instances, one transaction per batch.
Prints records/s of each (median of --repeat) and the ratio (issue 13 asks ≥ 0.5x).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup(database: str) -> None:
    import psycopg

    base, _, name = database.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        DATABASE_URL=database,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fixtures():
    from django.contrib.auth import get_user_model

    from policy_admin.fleet.services import fleet_token_create
    from policy_admin.models import KeywordRuleSet, Policy
    from policy_admin.services.publishing import policy_publish
    from tenants.models import Tenant

    user = get_user_model().objects.create(username="bench")
    tenant = Tenant.objects.create(name="Bench", slug="bench")
    policy = Policy.objects.create(tenant=tenant, name="Default", slug="default")
    KeywordRuleSet.objects.create(
        tenant=tenant, policy=policy, name="Terms", terms="gore\nblood", term_count=2
    )
    version = policy_publish(policy=policy, actor=user, revision=policy.revision)
    _, secret = fleet_token_create(tenant=tenant, actor=user, name="bench")
    return tenant, policy, version, secret


def thumbnail() -> str:
    from PIL import Image, ImageFilter

    # Blurred noise: about the size of a generated picture's 256 px thumbnail.
    picture = Image.effect_noise((256, 192), 60).filter(ImageFilter.GaussianBlur(1))
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=80)
    return base64.b64encode(out.getvalue()).decode()


def records(version, n: int, thumb: str) -> list[dict]:
    actions = ["allow", "flag", "review", "block"]
    return [
        {
            "request_id": f"req-{i}",
            "decided_at": "2026-12-03T16:41:07.120Z",
            "channel": "production",
            "version": version.number,
            "bundle_sha256": version.sha256,
            "action": actions[i % 4],
            "reasons": ["audit"] if i % 3 else ["review"],
            "inclusion_probability": 0.01 if i % 3 else None,
            "rules": [
                {
                    "rule_id": "keywords:terms",
                    "kind": "keywords",
                    "action": "block",
                    "score": (i % 100) / 100,
                    "threshold": 0.5,
                    "fired": i % 2 == 0,
                },
                {
                    "rule_id": "category:sexual",
                    "kind": "category",
                    "action": "review",
                    "score": 0.3,
                    "threshold": 0.7,
                    "fired": False,
                },
            ],
            "scores": {"sexual": 0.3, "violence": 0.1, "concept:weapons": 0.2},
            "prompt": f"a photo of a cat number {i} on a sofa, studio light",
            "thumbnail_base64": thumb,
            "image_sha256": f"{i:064x}",
        }
        for i in range(n)
    ]


def run_endpoint(client, secret: str, rows: list[dict], batch: int, tag: str) -> float:
    bodies = [
        json.dumps(
            {
                "batch_id": f"{tag}-{start}",
                "instance_id": "bench",
                "records": rows[start : start + batch],
                "counts": [
                    {
                        "minute": "2026-12-03T16:41:00Z",
                        "channel": "production",
                        "version": rows[0]["version"],
                        "action": "allow",
                        "rule_id": "",
                        "count": batch * 100,
                    }
                ],
            }
        ).encode()
        for start in range(0, len(rows), batch)
    ]
    started = time.perf_counter()
    for body in bodies:
        response = client.post(
            "/api/v1/fleet/policies/default/decisions",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert response.status_code == 201, response.content[:300]
    return len(rows) / (time.perf_counter() - started)


def run_bulk(tenant, policy, version, rows: list[dict], batch: int, tag: str) -> float:
    from django.db import transaction

    from moderation.models import DecisionBatch, DecisionRecord
    from moderation.services.decision_batch import parse_decision_batch

    parsed = parse_decision_batch({"batch_id": "x", "instance_id": "x", "records": rows[:1]})
    template = parsed.records[0]
    batches = []
    for start in range(0, len(rows), batch):
        head = DecisionBatch.objects.create(
            tenant=tenant, policy=policy, batch_id=f"{tag}-{start}", instance_id="bench"
        )
        batches.append(
            [
                DecisionRecord(
                    tenant=tenant,
                    policy=policy,
                    version=version,
                    batch=head,
                    request_id=r["request_id"],
                    decided_at=template["decided_at"],
                    channel=r["channel"],
                    action=r["action"],
                    reasons=r["reasons"],
                    audited="audit" in r["reasons"],
                    inclusion_probability=r["inclusion_probability"],
                    rules=r["rules"],
                    scores=r["scores"],
                    prompt=r["prompt"],
                    thumbnail=template["thumbnail"],
                    image_sha256=r["image_sha256"],
                )
                for r in rows[start : start + batch]
            ]
        )
    started = time.perf_counter()
    for chunk in batches:
        with transaction.atomic():
            DecisionRecord.objects.bulk_create(chunk, batch_size=1000)
    return len(rows) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/bench_ingest")
    args = parser.parse_args()
    setup(args.database)
    from django.test import Client

    tenant, policy, version, secret = fixtures()
    rows = records(version, args.records, thumbnail())
    client = Client(HTTP_HOST="localhost")
    endpoint, bulk = [], []
    for r in range(args.repeat):  # interleaved, so load on the machine hits both alike
        endpoint.append(run_endpoint(client, secret, rows, args.batch, f"e{r}"))
        bulk.append(run_bulk(tenant, policy, version, rows, args.batch, f"b{r}"))
    e, b = statistics.median(endpoint), statistics.median(bulk)
    print(f"{args.records} records, {args.batch} per batch, median of {args.repeat}")
    print(f"endpoint (parse, check, insert, counters, review routing): {e:,.0f} records/s")
    print(f"bare bulk_create of the same rows:                        {b:,.0f} records/s")
    print(f"ratio: {e / b:.2f}x (aim >= 0.5x)")


if __name__ == "__main__":
    main()
