"""Samples sent for relabelling: queue a classifier's likely label errors, write labels back.

A sample waits in at most one of the tenant's queues at a time (a conditional
unique constraint), so sending it again while it waits does nothing. When its
item is fully labelled, the label (the consensus of an overlapped item's labels)
becomes the sample's expected action and categories, audited and noted on the
sample as "relabelled in review", so the next training reads it. Its tags stay.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from moderation.analysis.agreement import consensus_action, consensus_categories
from moderation.models import ReviewItem, ReviewLabel, ReviewQueue, Sample, TrainingRun
from moderation.services.samples import sample_update_labels
from policy_admin.services.audit import audit_record
from tenants.scoping import scoped

PROVENANCE = "relabelled in review"


@dataclass(frozen=True)
class SentSamples:
    """What a send did: items queued, samples already waiting, samples no longer there."""

    sent: int
    waiting: int
    missing: int


@transaction.atomic
def review_samples_send(
    *, queue: ReviewQueue, sample_ids: list[int], priorities: dict[int, float] | None = None
) -> SentSamples:
    """Queue each of the tenant's samples that is not already waiting in one of its queues.

    Ids of deleted samples, or of another tenant's, are counted as missing. Under
    the informative order an item is asked in the order of `priorities` (higher first).
    """
    priorities = priorities or {}
    found = scoped(Sample, queue.tenant).in_bulk(list(dict.fromkeys(sample_ids)))
    waiting = set(
        scoped(ReviewItem, queue.tenant)
        .filter(sample__in=list(found), status=ReviewItem.Status.OPEN)
        .values_list("sample_id", flat=True)
    )
    items = [
        ReviewItem(
            tenant=queue.tenant,
            queue=queue,
            sample=sample,
            labels_wanted=_labels_wanted(queue, sample.pk),
            priority=float(priorities.get(pk, 0.0)),
        )
        for pk, sample in found.items()
        if pk not in waiting
    ]
    # A concurrent send of the same sample loses to the constraint, not with an error.
    ReviewItem.objects.bulk_create(items, ignore_conflicts=True)
    return SentSamples(
        sent=len(items), waiting=len(waiting), missing=len(set(sample_ids) - set(found))
    )


def _labels_wanted(queue: ReviewQueue, sample_id: int) -> int:
    # Seeded by the sample, as records are seeded by theirs (review_enqueue).
    overlapped = random.Random(f"sample-{sample_id}").random() < queue.overlap_share
    return queue.overlap_k if overlapped else 1


@transaction.atomic
def label_issues_send(*, run: TrainingRun, queue: ReviewQueue, actor) -> SentSamples:
    """Send a training's likely label errors to `queue`, the surest disagreement first.

    The queue must be the training's tenant's (another's is a 404); a send that queued
    anything is audited.
    """
    if queue.tenant_id != run.tenant_id:
        raise Http404("No such review queue.")
    issues = run.label_issues or []
    priorities = {i["sample"]: abs(float(i["score"]) - float(i["label"])) for i in issues}
    sent = review_samples_send(queue=queue, sample_ids=list(priorities), priorities=priorities)
    if not sent.sent:
        return sent
    classifier = run.classifier
    audit_record(
        tenant=run.tenant,
        actor=actor,
        verb="create",
        target=queue,
        target_type="review queue",
        policy=classifier.policy,
        summary=(
            f"sent {sent.sent} likely label errors of {classifier.name} (training {run.pk}) "
            f"to review queue {queue.name}; {sent.waiting} already waiting"
        ),
    )
    return sent


def review_sample_write_back(*, item: ReviewItem, actor) -> Sample:
    """Write a labelled sample item's consensus label to its sample, audited.

    Called inside the transaction that stores or changes the item's last label.
    """
    labels = list(scoped(ReviewLabel, item.tenant).filter(item=item).select_related("reviewer"))
    sample = scoped(Sample, item.tenant).select_for_update().get(pk=item.sample_id)
    before = {"expected_action": sample.expected_action,
              "expected_categories": list(sample.expected_categories)}  # fmt: skip
    sample_update_labels(
        sample=sample,
        expected_action=consensus_action([label.action for label in labels]),
        expected_categories=consensus_categories([label.categories for label in labels]),
        tags=sample.tags,
    )
    after = {"expected_action": sample.expected_action,
             "expected_categories": list(sample.expected_categories)}  # fmt: skip
    names = sorted({label.reviewer.username if label.reviewer else "a deleted user"
                    for label in labels})  # fmt: skip
    change = _describe(before, after)
    when = timezone.now().strftime("%Y-%m-%d %H:%M")
    line = f"{PROVENANCE.capitalize()} ({item.queue.name}, {when} UTC, by {', '.join(names)}): "
    sample.notes = "\n".join(filter(None, [sample.notes, line + change]))
    sample.save(update_fields=["notes"])
    audit_record(
        tenant=item.tenant,
        actor=actor,
        verb="update",
        target=sample,
        target_type="sample",
        summary=f"sample {sample.external_id} {PROVENANCE} ({item.queue.name}): {change}",
        before=before,
        after=after,
    )
    return sample


def _describe(before: dict, after: dict) -> str:
    def text(labels):
        categories = ", ".join(labels["expected_categories"]) or "no categories"
        return f"{labels['expected_action']} ({categories})"

    if before == after:
        return f"kept {text(after)}"
    return f"{text(before)} → {text(after)}"
