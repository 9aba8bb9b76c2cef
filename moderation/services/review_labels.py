"""Taking an answer back: undo while the lease holds, relabel after (docs/production.md)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from kernel.errors import ApplicationError, ConflictError
from moderation.engine.decision import ACTIONS
from moderation.models import ReviewClaim, ReviewItem, ReviewLabel
from moderation.services.review_samples import review_sample_write_back
from tenants.scoping import scoped


def _answered_claim(label: ReviewLabel) -> ReviewClaim | None:
    return (
        scoped(ReviewClaim, label.tenant)
        .select_for_update()
        .filter(item_id=label.item_id, reviewer_id=label.reviewer_id, answered_at__isnull=False)
        .order_by("-answered_at")
        .first()
    )


@transaction.atomic
def review_undo(*, label: ReviewLabel, reviewer) -> ReviewClaim:
    """Delete `reviewer`'s label and give them the item back under the same claim.

    Only while the claim's lease holds; after it, the answer stays and can be
    changed with `review_relabel` (the item may already be in another's hands).
    """
    if label.reviewer_id != reviewer.pk:
        raise ConflictError("This label is another reviewer's; you can only undo your own.")
    claim = _answered_claim(label)
    now = timezone.now()
    if claim is None or claim.lease_expires_at <= now:
        raise ConflictError(
            "The lease on this item has ended, so the answer cannot be taken back; "
            "relabel it instead to change your answer."
        )
    item = scoped(ReviewItem, label.tenant).select_for_update().get(pk=label.item_id)
    waiting = scoped(ReviewItem, label.tenant).filter(
        sample_id=item.sample_id, status=ReviewItem.Status.OPEN
    )
    if item.sample_id and waiting.exclude(pk=item.pk).exists():
        raise ConflictError(
            "This sample was sent for review again meanwhile, so this answer cannot be taken "
            "back; relabel it instead to change your answer."
        )
    label.delete()
    item.labels_done = max(0, item.labels_done - 1)
    item.status, item.done_at = ReviewItem.Status.OPEN, None
    item.save(update_fields=["labels_done", "status", "done_at"])
    claim.answered_at = None
    claim.save(update_fields=["answered_at"])
    return claim


@transaction.atomic
def review_relabel(
    *, label: ReviewLabel, reviewer, action: str, categories: list[str]
) -> ReviewLabel:
    """Change `reviewer`'s own answer on an item, at any time."""
    if label.reviewer_id != reviewer.pk:
        raise ConflictError("This label is another reviewer's; you can only relabel your own.")
    if action not in ACTIONS:
        raise ApplicationError(f"{action!r} is not an action; choose one of {', '.join(ACTIONS)}.")
    label.action, label.categories = action, list(categories)
    label.save(update_fields=["action", "categories"])
    item = label.item
    if item.sample_id and item.status == ReviewItem.Status.DONE:
        review_sample_write_back(item=item, actor=reviewer)
    return label
