"""Review queues: route kept decisions to queues, claim items under a lease, store answers.

Every query is scoped to the record's or queue's tenant (tenants.scoping.scoped).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from kernel.errors import ApplicationError, ConflictError
from moderation.engine.decision import ACTIONS
from moderation.models import (
    DecisionRecord,
    ReviewClaim,
    ReviewItem,
    ReviewLabel,
    ReviewQueue,
    RoutingRule,
)
from tenants.scoping import scoped


def default_queue(tenant) -> ReviewQueue:
    """The tenant's default queue (slug "default"), created on first use."""
    queue = scoped(ReviewQueue, tenant).filter(is_default=True).first()
    if queue is None:
        queue, _ = ReviewQueue.objects.get_or_create(
            tenant=tenant, slug="default", defaults={"name": "Default", "is_default": True}
        )
    return queue


def _rule_matches(rule: RoutingRule, record: DecisionRecord) -> bool:
    if rule.action and rule.action != record.action:
        return False
    if rule.channel and rule.channel != record.channel:
        return False
    if rule.reason and rule.reason not in (record.reasons or []):
        return False
    if rule.rule_id and not any(
        r.get("rule_id") == rule.rule_id and r.get("fired") for r in record.rules or []
    ):
        return False
    if rule.category:
        score = (record.scores or {}).get(rule.category)
        if score is None:
            return False
        if rule.score_min is not None and score < rule.score_min:
            return False
        if rule.score_max is not None and score > rule.score_max:
            return False
    return True


def record_priority(record: DecisionRecord) -> float:
    """How close the deciding score was to its threshold: 1 - |score - threshold|.

    The deciding rule is the fired rule with the strictest action; when none fired,
    the rule whose score came nearest its threshold. A record without scored rules
    gets 0. Higher means less certain, so asked first under the informative order.
    """
    scored = [
        r
        for r in record.rules or []
        if r.get("score") is not None and r.get("threshold") is not None
    ]
    if not scored:
        return 0.0
    fired = [r for r in scored if r.get("fired")]
    if fired:
        rule = max(
            fired, key=lambda r: ACTIONS.index(r["action"]) if r.get("action") in ACTIONS else -1
        )
    else:
        rule = min(scored, key=lambda r: abs(r["score"] - r["threshold"]))
    return max(0.0, 1.0 - abs(float(rule["score"]) - float(rule["threshold"])))


def review_enqueue(records: list[DecisionRecord]) -> None:
    """Put each record in the queue of the first routing rule it matches, else the default.

    An overlapped item (a seeded-random share `overlap_share` of the queue's items,
    seeded by the record id) wants `overlap_k` labels, others one.
    """
    rules_by_tenant: dict = {}
    defaults: dict = {}
    items = []
    for record in records:
        tenant = record.tenant
        if tenant.pk not in rules_by_tenant:
            rules_by_tenant[tenant.pk] = list(
                scoped(RoutingRule, tenant).select_related("queue").order_by("position", "id")
            )
        rule = next((r for r in rules_by_tenant[tenant.pk] if _rule_matches(r, record)), None)
        if rule is None and tenant.pk not in defaults:
            defaults[tenant.pk] = default_queue(tenant)
        queue = rule.queue if rule else defaults[tenant.pk]
        overlapped = random.Random(record.pk).random() < queue.overlap_share
        items.append(
            ReviewItem(
                tenant=tenant,
                queue=queue,
                record=record,
                labels_wanted=queue.overlap_k if overlapped else 1,
                priority=record_priority(record),
            )
        )
    ReviewItem.objects.bulk_create(items, ignore_conflicts=True)


def _active_claims(now) -> Q:
    return Q(answered_at__isnull=True, released=False, lease_expires_at__gt=now)


def review_claim(queue: ReviewQueue, reviewer) -> ReviewItem | None:
    """Hand `reviewer` the next item of `queue`, or None when nothing is left for them.

    A reviewer already holding an active claim in the queue gets it back. Rows are
    locked with SKIP LOCKED, so concurrent reviewers never wait on or share an item.
    """
    now = timezone.now()
    claims = scoped(ReviewClaim, queue.tenant)
    held = (
        claims.filter(_active_claims(now), item__queue=queue, reviewer=reviewer)
        .select_related("item")
        .first()
    )
    if held is not None:
        return held.item
    order = (
        ["-priority", "id"]
        if queue.order == ReviewQueue.Order.INFORMATIVE
        else ["created_at", "id"]
    )
    with transaction.atomic():
        seen = claims.filter(item__queue=queue, reviewer=reviewer).filter(
            Q(answered_at__isnull=False) | _active_claims(now)
        )
        labelled = scoped(ReviewLabel, queue.tenant).filter(item__queue=queue, reviewer=reviewer)
        candidates = (
            scoped(ReviewItem, queue.tenant)
            .filter(queue=queue, status=ReviewItem.Status.OPEN)
            .exclude(pk__in=seen.values("item_id"))
            .exclude(pk__in=labelled.values("item_id"))
            .annotate(
                active=Count(
                    "claims",
                    filter=Q(
                        claims__answered_at__isnull=True,
                        claims__released=False,
                        claims__lease_expires_at__gt=now,
                    ),
                )
            )
            .filter(active__lt=F("labels_wanted") - F("labels_done"))
            .order_by(*order)
            .values_list("pk", flat=True)
        )
        for pk in candidates[:50]:
            item = (
                scoped(ReviewItem, queue.tenant)
                .select_for_update(skip_locked=True)
                .filter(pk=pk, status=ReviewItem.Status.OPEN)
                .first()
            )
            if item is None:
                continue
            active = item.claims.filter(_active_claims(now)).count()
            if active + item.labels_done >= item.labels_wanted:
                continue
            ReviewClaim.objects.create(
                tenant=queue.tenant,
                item=item,
                reviewer=reviewer,
                lease_expires_at=now + timedelta(seconds=queue.lease_seconds),
            )
            return item
    return None


def _claim_usable(claim: ReviewClaim, now) -> None:
    if claim.answered_at is not None:
        raise ConflictError("You already answered this item. Claim the next one.")
    if claim.released or claim.lease_expires_at <= now:
        expired = timezone.localtime(claim.lease_expires_at).strftime("%H:%M:%S")
        raise ConflictError(
            f"Your lease on this item expired at {expired}; it went back to the queue. "
            "Claim again to label it."
        )


def review_answer(
    claim: ReviewClaim, reviewer, action: str, categories: list[str], seconds: float
) -> ReviewLabel:
    """Store `reviewer`'s label for the claimed item; refused once the lease is gone."""
    if action not in ACTIONS:
        raise ApplicationError(f"{action!r} is not an action; choose one of {', '.join(ACTIONS)}.")
    now = timezone.now()
    with transaction.atomic():
        claim = scoped(ReviewClaim, claim.tenant).select_for_update().get(pk=claim.pk)
        if claim.reviewer_id != reviewer.pk:
            raise ConflictError("This claim belongs to another reviewer. Claim an item yourself.")
        _claim_usable(claim, now)
        item = scoped(ReviewItem, claim.tenant).select_for_update().get(pk=claim.item_id)
        label = ReviewLabel.objects.create(
            tenant=claim.tenant,
            item=item,
            record_id=item.record_id,
            reviewer=reviewer,
            action=action,
            categories=list(categories),
            seconds=max(0.0, float(seconds)),
        )
        claim.answered_at = now
        claim.save(update_fields=["answered_at"])
        item.labels_done += 1
        if item.labels_done >= item.labels_wanted:
            item.status = ReviewItem.Status.DONE
            item.done_at = now
        item.save(update_fields=["labels_done", "status", "done_at"])
    return label


def review_skip(claim: ReviewClaim) -> None:
    """Give the item back to the queue unanswered."""
    scoped(ReviewClaim, claim.tenant).filter(pk=claim.pk, answered_at__isnull=True).update(
        released=True
    )


def review_leases_sweep() -> int:
    """Release every unanswered claim whose lease expired; returns how many (all tenants)."""
    return ReviewClaim.objects.filter(
        answered_at__isnull=True, released=False, lease_expires_at__lte=timezone.now()
    ).update(released=True)
