"""Review queue settings and the tenant's ordered routing rules (docs/production.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from kernel.errors import ApplicationError, ConflictError
from moderation.engine.decision import ACTIONS
from moderation.models import ReviewQueue, RoutingRule
from moderation.services.review import default_queue
from tenants.scoping import scoped

QUEUE_FIELDS = ("name", "order", "lease_seconds", "overlap_share", "overlap_k")
RULE_FIELDS = ("action", "rule_id", "category", "score_min", "score_max", "channel", "reason")


def _check_queue(queue: ReviewQueue) -> None:
    if not 0.0 <= queue.overlap_share <= 1.0:
        raise ApplicationError(
            f"The overlap share is {queue.overlap_share}; give a share between 0 and 1 "
            "(0.1 asks several reviewers for one item in ten)."
        )
    if queue.overlap_k < 2:
        raise ApplicationError("An overlapped item needs at least 2 reviewers; set overlap k ≥ 2.")
    if queue.lease_seconds < 30:
        raise ApplicationError("A lease shorter than 30 seconds expires mid-label; give ≥ 30.")
    clash = scoped(ReviewQueue, queue.tenant).filter(slug=queue.slug).exclude(pk=queue.pk)
    if clash.exists():
        raise ConflictError(f"A queue with the slug “{queue.slug}” already exists; pick another.")
    try:
        queue.full_clean(validate_constraints=False)
    except ValidationError as error:
        raise ApplicationError(" ".join(error.messages)) from None


@transaction.atomic
def review_queue_create(*, tenant, name: str, slug: str, **settings) -> ReviewQueue:
    """A new queue of the tenant; routing rules send records to it."""
    default_queue(tenant)  # the default exists before any other queue
    queue = ReviewQueue(tenant=tenant, name=name.strip(), slug=slug.strip(), **settings)
    _check_queue(queue)
    queue.save()
    return queue


@transaction.atomic
def review_queue_update(*, queue: ReviewQueue, **settings) -> ReviewQueue:
    """Change a queue's name, order, lease and overlap; new items follow the new overlap."""
    for field, value in settings.items():
        if field not in QUEUE_FIELDS:
            raise ApplicationError(
                f"{field} is not a queue setting; use {', '.join(QUEUE_FIELDS)}."
            )
        setattr(queue, field, value)
    _check_queue(queue)
    queue.save()
    return queue


@transaction.atomic
def review_queue_delete(*, queue: ReviewQueue) -> None:
    """Delete a queue with its items and labels; the default queue cannot be deleted."""
    if queue.is_default:
        raise ConflictError(
            f"“{queue.name}” is the default queue: records no routing rule matches go there, "
            "so it cannot be deleted. Delete or change the other queues instead."
        )
    queue.delete()


def _check_rule(rule: RoutingRule) -> None:
    if rule.action and rule.action not in ACTIONS:
        raise ApplicationError(f"{rule.action!r} is not an action; use {', '.join(ACTIONS)}.")
    if (rule.score_min is not None or rule.score_max is not None) and not rule.category:
        raise ApplicationError("A score band needs a category: name the category it applies to.")
    if None not in (rule.score_min, rule.score_max) and rule.score_min > rule.score_max:
        raise ApplicationError(
            f"The score band is empty ({rule.score_min} > {rule.score_max}); swap its ends."
        )
    if rule.queue.tenant_id != rule.tenant_id:
        raise ApplicationError("That queue belongs to another tenant; pick one of yours.")


@transaction.atomic
def routing_rule_add(*, tenant, queue: ReviewQueue, **fields) -> RoutingRule:
    """A routing rule to `queue`, tried after the tenant's existing rules."""
    last = scoped(RoutingRule, tenant).order_by("-position").first()
    rule = RoutingRule(
        tenant=tenant,
        queue=queue,
        position=(last.position + 1) if last else 0,
        **{
            f: fields.get(f) if f.startswith("score") else (fields.get(f) or "")
            for f in RULE_FIELDS
        },
    )
    _check_rule(rule)
    rule.save()
    return rule


@transaction.atomic
def routing_rule_move(*, rule: RoutingRule, offset: int) -> None:
    """Move a rule `offset` places earlier (negative) or later; positions stay 0..n-1."""
    rules = list(scoped(RoutingRule, rule.tenant).select_for_update().order_by("position", "id"))
    index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    target = max(0, min(len(rules) - 1, index + offset))
    rules.insert(target, rules.pop(index))
    for position, r in enumerate(rules):
        if r.position != position:
            r.position = position
            r.save(update_fields=["position"])


@transaction.atomic
def routing_rule_delete(*, rule: RoutingRule) -> None:
    """Delete a rule; records it matched go to the next matching rule or the default queue."""
    rule.delete()
