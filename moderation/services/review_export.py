"""Labelled review items become samples, through the sample-set importer (docs/production.md).

Each exported sample keeps its provenance: the id is `decision-<record id>`, the
tags say `production`, `consensus` or `single`, the queue and `audit` for the
random stratum, and the notes name the record, its request, and the reviewers.
The expected action and categories are the label, or the consensus of an
overlapped item's labels (moderation/analysis/agreement.py).
"""

from __future__ import annotations

import io
import json
import zipfile

from kernel.errors import ApplicationError
from moderation.analysis.agreement import consensus_action, consensus_categories
from moderation.models import ReviewItem, ReviewQueue, SampleImport, SampleSet
from moderation.services.manifest import MAX_ROWS
from moderation.services.samples import sample_set_import
from tenants.scoping import scoped


def _fired(record, rule_id: str) -> bool:
    return any(r.get("rule_id") == rule_id and r.get("fired") for r in record.rules or [])


def review_export_items(*, queue: ReviewQueue, rule_id: str = "") -> list[ReviewItem]:
    """The queue's fully labelled records, only those where `rule_id` fired when given.

    Sample items are left out: their labels were written back to their samples.
    """
    items = (
        scoped(ReviewItem, queue.tenant)
        .filter(queue=queue, status=ReviewItem.Status.DONE, record__isnull=False)
        .select_related("record__version")
        .prefetch_related("labels__reviewer")
        .order_by("id")
    )
    return [item for item in items if not rule_id or _fired(item.record, rule_id)]


def _row(item: ReviewItem, queue: ReviewQueue) -> tuple[dict, bytes]:
    record, labels = item.record, list(item.labels.all())
    names = sorted(
        label.reviewer.username if label.reviewer else "a deleted user" for label in labels
    )
    kind = "consensus" if len(labels) > 1 else "single"
    image = bytes(record.thumbnail) if record.thumbnail else b""
    how = f"consensus of {len(labels)} labels" if len(labels) > 1 else "one label"
    return {
        "id": f"decision-{record.pk}",
        "prompt": record.prompt,
        "image": f"images/decision-{record.pk}.jpg" if image else "",
        "expected_action": consensus_action([label.action for label in labels]),
        "expected_categories": consensus_categories([label.categories for label in labels]),
        "tags": ["production", kind, f"queue:{queue.slug}", *(["audit"] if record.audited else [])],
        "notes": (
            f"From decision record {record.pk} (request {record.request_id}, channel "
            f"{record.channel}, v{record.version.number}, decided {record.action}); "
            f"labelled by {', '.join(names)}; {how}."
        ),
    }, image


def _archive(rows: list[tuple[dict, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.jsonl", "\n".join(json.dumps(row) for row, _ in rows) + "\n")
        for row, image in rows:
            if image:
                archive.writestr(row["image"], image)
    return buffer.getvalue()


def review_export(
    *, queue: ReviewQueue, sample_set: SampleSet, actor, rule_id: str = ""
) -> list[SampleImport]:
    """Import the queue's labelled items (where `rule_id` fired, when given) into `sample_set`.

    Goes through `sample_set_import`, so its checks, limits and dedup apply: an
    item exported twice is refused the second time with the importer's reason.
    One import report per 10,000 items.
    """
    if sample_set.tenant_id != queue.tenant_id:
        raise ApplicationError("The sample set belongs to another tenant; pick one of yours.")
    items = review_export_items(queue=queue, rule_id=rule_id)
    if not items:
        where = f" where rule {rule_id} fired" if rule_id else ""
        raise ApplicationError(
            f"“{queue.name}” has no fully labelled items{where} yet; label some, then export."
        )
    rows = [_row(item, queue) for item in items]
    return [
        sample_set_import(
            sample_set=sample_set,
            actor=actor,
            file_name=f"review-{queue.slug}.zip",
            data=_archive(rows[start : start + MAX_ROWS]),
        )
        for start in range(0, len(rows), MAX_ROWS)
    ]
