"""Reads of the review queues: backlogs, labels, agreement on overlapped items."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min, Q, QuerySet

from moderation.analysis.agreement import (
    CategoryAgreement,
    ItemLabels,
    PairAgreement,
    category_agreements,
    pair_agreements,
)
from moderation.engine.catalogue import load_catalogue
from moderation.models import ReviewItem, ReviewLabel, ReviewQueue, RoutingRule
from tenants.scoping import scoped

_OPEN = Q(items__status=ReviewItem.Status.OPEN)


def review_queue_list(*, tenant) -> QuerySet[ReviewQueue]:
    """The tenant's queues, the default first, with backlog, oldest open item and labelled."""
    return (
        scoped(ReviewQueue, tenant)
        .annotate(
            backlog=Count("items", filter=_OPEN),
            oldest=Min("items__created_at", filter=_OPEN),
            labelled=Count("items", filter=Q(items__status=ReviewItem.Status.DONE)),
        )
        .order_by("-is_default", "name")
    )


def review_queue_get(*, tenant, slug: str) -> ReviewQueue:
    """One of the tenant's queues by slug, with its figures; ReviewQueue.DoesNotExist otherwise."""
    return review_queue_list(tenant=tenant).get(slug=slug)


def routing_rule_list(*, tenant) -> QuerySet[RoutingRule]:
    """The tenant's routing rules in the order they are tried."""
    return scoped(RoutingRule, tenant).select_related("queue").order_by("position", "id")


def review_label_list(*, tenant, queue: ReviewQueue | None = None) -> QuerySet[ReviewLabel]:
    """The tenant's labels, newest first, optionally of one queue."""
    labels = scoped(ReviewLabel, tenant).select_related("reviewer", "item__queue", "item__sample")
    if queue is not None:
        labels = labels.filter(item__queue=queue)
    return labels.order_by("-created_at", "-id")


def review_last_label(*, queue: ReviewQueue, reviewer) -> ReviewLabel | None:
    """The reviewer's latest answer in the queue, with its record (for undo and explanation)."""
    return (
        scoped(ReviewLabel, queue.tenant)
        .filter(item__queue=queue, reviewer=reviewer)
        .select_related("record", "item__sample__sample_set")
        .order_by("-created_at", "-id")
        .first()
    )


def item_labels(items) -> list[ItemLabels]:
    """Each item's labels as {reviewer name: (action, categories)} (items prefetch labels)."""
    return [
        {
            (label.reviewer.username if label.reviewer else f"deleted-{label.pk}"): (
                label.action,
                label.categories,
            )
            for label in item.labels.all()
        }
        for item in items
    ]


@dataclass(frozen=True)
class QueueAgreement:
    """How reviewers agreed on a queue's overlapped items."""

    items: int
    pairs: list[PairAgreement]
    categories: list[CategoryAgreement]


def review_queue_agreement(*, queue: ReviewQueue) -> QueueAgreement:
    """Kappa per reviewer pair and per category on items labelled by two reviewers or more."""
    items = (
        scoped(ReviewItem, queue.tenant)
        .filter(queue=queue)
        .annotate(n=Count("labels"))
        .filter(n__gte=2)
        .prefetch_related("labels__reviewer")
    )
    labels = item_labels(items)
    return QueueAgreement(
        items=len(labels),
        pairs=pair_agreements(labels),
        categories=category_agreements(labels, load_catalogue().ids()),
    )
