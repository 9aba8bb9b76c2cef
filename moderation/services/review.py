"""Review queues: route kept decisions to queues, claim items under a lease, store answers.

Every query is scoped to the record's or queue's tenant (tenants.scoping.scoped).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from kernel import registry
from kernel.errors import ApplicationError, ConflictError
from kernel.vectors import text_vectors
from moderation.engine.decision import ACTIONS
from moderation.models import (
    DecisionRecord,
    ReviewClaim,
    ReviewItem,
    ReviewLabel,
    ReviewQueue,
    RoutingRule,
)
from moderation.selectors.review_order import DUPLICATE_COSINE
from moderation.services.review_samples import review_sample_write_back
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


# Diversity under the informative order (docs/production.md): an item whose prompt has a
# cosine of at least DUPLICATE_COSINE with one already waiting (MiniLM, the engine's text
# encoder), or whose image has the same sha256, is a near-duplicate of it. An item with k
# near-duplicates ahead of it gets its priority divided by 1 + k, so a burst of one prompt
# does not fill the head of the queue. Compared with the DIVERSITY_NEIGHBOURS open items of
# highest priority (those about to be asked) and the batch's items of higher priority.
DIVERSITY_NEIGHBOURS = 500


def _near_duplicates(
    vectors: np.ndarray, images: Sequence[str], i: int, ahead: Sequence[int]
) -> int:
    """How many of the items `ahead` are near-duplicates of item i (unit prompt vectors)."""
    close = {j for j in ahead if images[i] and images[j] == images[i]}
    if ahead and vectors[i].any():
        cosines = vectors[list(ahead)] @ vectors[i]
        close |= {j for j, c in zip(ahead, cosines, strict=True) if c >= DUPLICATE_COSINE}
    return len(close)


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _damp_near_duplicates(queue: ReviewQueue, items: list[ReviewItem], encoder) -> None:
    """Divide the priority of each new item by 1 + its near-duplicates already ahead of it."""
    waiting = list(
        scoped(ReviewItem, queue.tenant)
        .filter(queue=queue, status=ReviewItem.Status.OPEN, record__isnull=False)
        .order_by("-priority", "id")
        .values_list("record__prompt", "record__image_sha256")[:DIVERSITY_NEIGHBOURS]
    )
    new = sorted(items, key=lambda item: -item.priority)
    rows = [*waiting, *((item.record.prompt, item.record.image_sha256) for item in new)]
    prompts = [prompt for prompt, _ in rows]
    images = [image for _, image in rows]
    vectors = np.zeros((len(rows), 1), dtype=np.float32)
    texts = [i for i, p in enumerate(prompts) if p.strip()]
    if texts:
        encoder = encoder or registry.models().text_encoder()
        found = _unit(text_vectors(encoder, [prompts[i] for i in texts]))
        vectors = np.zeros((len(rows), found.shape[1]), dtype=np.float32)
        vectors[texts] = found
    for n, item in enumerate(new):
        i = len(waiting) + n
        ahead = list(range(i))  # every waiting item, and the new ones of higher priority
        item.priority = item.priority / (1 + _near_duplicates(vectors, images, i, ahead))


def review_enqueue(records: list[DecisionRecord], *, encoder=None) -> None:
    """Put each record in the queue of the first routing rule it matches, else the default.

    An overlapped item (a seeded-random share `overlap_share` of the queue's items,
    seeded by the record id) wants `overlap_k` labels, others one. In a queue with
    the informative order, near-duplicates of items already ahead are damped (see
    DUPLICATE_COSINE); `encoder` defaults to the engine's MiniLM.
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
    by_queue: dict[int, list[ReviewItem]] = {}
    for item in items:
        if item.queue.order == ReviewQueue.Order.INFORMATIVE:
            by_queue.setdefault(item.queue.pk, []).append(item)
    for queued in by_queue.values():
        _damp_near_duplicates(queued[0].queue, queued, encoder)
    ReviewItem.objects.bulk_create(items, ignore_conflicts=True)


def _active_claims(now) -> Q:
    return Q(answered_at__isnull=True, released=False, lease_expires_at__gt=now)


def _active_count(now):
    """How many active claims the outer query's item has, as a subquery."""
    return (
        ReviewClaim.objects.filter(_active_claims(now), item=OuterRef("pk"))
        .order_by()
        .values("item")
        .annotate(n=Count("id"))
        .values("n")
    )


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
        # Answered, held, or skipped while its lease would still run: not offered again.
        seen = claims.filter(item__queue=queue, reviewer=reviewer).filter(
            Q(answered_at__isnull=False) | Q(lease_expires_at__gt=now)
        )
        labelled = scoped(ReviewLabel, queue.tenant).filter(item__queue=queue, reviewer=reviewer)
        candidates = (
            scoped(ReviewItem, queue.tenant)
            .filter(queue=queue, status=ReviewItem.Status.OPEN)
            .exclude(pk__in=seen.values("item_id"))
            .exclude(pk__in=labelled.values("item_id"))
            # A correlated count, not a GROUP BY over every open item: the planner then walks
            # the order's index and stops at the first 50 (bench/bench_review_claims.py).
            .annotate(active=Coalesce(Subquery(_active_count(now)), 0))
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
            record_id=item.record_id,  # null for a sample item
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
        if item.sample_id and item.status == ReviewItem.Status.DONE:
            review_sample_write_back(item=item, actor=reviewer)
    return label


def review_skip(claim: ReviewClaim) -> None:
    """Give the item back to the queue unanswered; others may claim it at once, and the
    reviewer who skipped it only once its lease would have ended."""
    scoped(ReviewClaim, claim.tenant).filter(pk=claim.pk, answered_at__isnull=True).update(
        released=True
    )


def review_leases_sweep() -> int:
    """Release every unanswered claim whose lease expired; returns how many (all tenants)."""
    return ReviewClaim.objects.filter(
        answered_at__isnull=True, released=False, lease_expires_at__lte=timezone.now()
    ).update(released=True)
