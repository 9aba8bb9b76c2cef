"""The demo's production side: two days of fleet decisions, a review queue with items waiting,
and labelled audit decisions, so the quality page shows production figures.

Decisions are generated (seeded, so every run is the same) and written as the ingest
would: counts per minute, the kept records, then review_enqueue routes them. The audit
queue's items are labelled through review_claim and review_answer, as a reviewer would.
"""

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from moderation.models import (
    DecisionBatch,
    DecisionCount,
    DecisionRecord,
    ReviewClaim,
    ReviewQueue,
    RoutingRule,
)
from moderation.services.review import review_answer, review_claim, review_enqueue
from tenants.scoping import scoped

HOURS = 48
AUDIT_SHARE = 0.01
# Decisions per hour on production, per action; staging sees a tenth.
PER_HOUR = {"allow": 900, "flag": 40, "review": 30, "block": 30}
REVIEW_KEPT = 40
AUDITED = 150
PROMPTS = {
    "allow": ["a watercolour of a lighthouse", "a corgi on a beach", "a bowl of ramen"],
    "flag": ["a knife on a kitchen table", "a boxing match, dramatic light"],
    "review": ["a pile of pills on a mirror", "a hunting rifle on a wall"],
    "block": ["a graphic street fight with blood", "explicit nude photo"],
}
# How often reviewers disagree with the decision, per decided action (the demo's truth).
WRONG = {
    "allow": ("flag", 0.05),
    "flag": ("allow", 0.2),
    "review": ("allow", 0.3),
    "block": ("allow", 0.1),
}


@dataclass
class DemoProduction:
    counted: int
    records: int
    waiting: int
    labelled: int


def _clear(policy) -> None:
    scoped(DecisionBatch, policy.tenant).filter(
        policy=policy, batch_id__startswith="demo-"
    ).delete()
    scoped(DecisionCount, policy.tenant).filter(policy=policy).delete()


def _counts(policy, version_number: int, now: dt.datetime, rng: random.Random) -> int:
    rows, total = [], 0
    for hour in range(HOURS):
        minute = (now - dt.timedelta(hours=hour)).replace(minute=0, second=0, microsecond=0)
        for channel, share in (("production", 1.0), ("staging", 0.1)):
            for action, n in PER_HOUR.items():
                count = max(0, round(n * share * rng.uniform(0.7, 1.3)))
                total += count
                rows.append(
                    DecisionCount(
                        tenant=policy.tenant, policy=policy, minute=minute, channel=channel,
                        version_number=version_number, action=action, count=count,
                    )
                )  # fmt: skip
    DecisionCount.objects.bulk_create(rows)
    return total


def _record(policy, version, batch, action, *, audited, at, rng) -> DecisionRecord:
    score = {"allow": 0.1, "flag": 0.45, "review": 0.6, "block": 0.85}[action] + rng.uniform(
        -0.1, 0.1
    )
    rule = {
        "rule_id": "violence:prompt", "kind": "category", "action": "review",
        "score": round(score, 3), "threshold": 0.5, "fired": score >= 0.5,
    }  # fmt: skip
    return DecisionRecord(
        tenant=policy.tenant, policy=policy, version=version, batch=batch,
        request_id=f"demo-{rng.getrandbits(48):012x}", decided_at=at, channel="production",
        action=action, reasons=["audit"] if audited else [action], audited=audited,
        inclusion_probability=AUDIT_SHARE if audited else None, rules=[rule],
        scores={"violence": round(score, 3)}, prompt=rng.choice(PROMPTS[action]),
    )  # fmt: skip


def _audit_queue(tenant) -> ReviewQueue:
    queue, _ = ReviewQueue.objects.get_or_create(
        tenant=tenant, slug="audit", defaults={"name": "Random audit"}
    )
    RoutingRule.objects.get_or_create(tenant=tenant, queue=queue, reason="audit", position=0)
    return queue


def seed_production(*, policy, version, reviewer, seed: int = 13) -> DemoProduction:
    """Replace the demo's production data of `policy` (v`version`); `reviewer` labels the audit."""
    rng, now = random.Random(seed), timezone.now()
    _clear(policy)
    counted = _counts(policy, version.number, now, rng)
    batch = DecisionBatch.objects.create(
        tenant=policy.tenant, policy=policy, batch_id="demo-seed", instance_id="demo-agent"
    )
    weights = list(PER_HOUR.values())
    records = [
        _record(policy, version, batch, "review", audited=False, rng=rng,
                at=now - dt.timedelta(minutes=rng.uniform(5, 600)))
        for _ in range(REVIEW_KEPT)
    ] + [
        _record(policy, version, batch, rng.choices(list(PER_HOUR), weights)[0], audited=True,
                rng=rng, at=now - dt.timedelta(hours=rng.uniform(0, HOURS)))
        for _ in range(AUDITED)
    ]  # fmt: skip
    records = DecisionRecord.objects.bulk_create(records)
    audit = _audit_queue(policy.tenant)
    review_enqueue(records)
    labelled = 0
    while (item := review_claim(audit, reviewer)) is not None:
        decided = item.record.action
        wrong, chance = WRONG[decided]
        claim = scoped(ReviewClaim, policy.tenant).get(
            item=item, reviewer=reviewer, answered_at=None
        )
        review_answer(
            claim, reviewer, wrong if rng.random() < chance else decided, [], rng.uniform(2, 9)
        )
        labelled += 1
    return DemoProduction(counted, len(records), REVIEW_KEPT, labelled)
