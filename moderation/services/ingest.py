"""Storing what the fleet decided: one upload of records and counts, whole or not at all.

The agent's upload contract is in docs/production.md; its shape is checked by
moderation.services.decision_batch. `decisions_ingest` checks it against the
database (versions of this policy only) and writes records, counters and review
items in one transaction. A batch id seen before stores nothing and says so,
which makes the agent's retries safe.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from moderation.models import DecisionBatch, DecisionCount, DecisionRecord, ShadowCount
from moderation.services.decision_batch import MAX_RECORDS, BatchError, DecisionUpload
from moderation.services.review import review_enqueue
from moderation.services.shadow_guard import shadow_guards_check
from policy_admin.models import PolicyVersion
from tenants.scoping import scoped


@dataclass(frozen=True)
class IngestResult:
    batch_id: str
    stored: int
    duplicate: bool
    counted: int = 0


def decisions_ingest(*, tenant, policy, upload: DecisionUpload) -> IngestResult:
    """Store the batch, its counts and its review items; all of it, or nothing.

    Raise BatchError when a record names a version this policy does not have, or a
    sha256 that is not that version's: a record of another policy or tenant is refused.
    """
    wanted = {r["version"] for r in upload.records + upload.counts + upload.shadow_counts}
    wanted |= {c["shadow_version"] for c in upload.shadow_counts}
    wanted |= {r["shadow"]["version"] for r in upload.records if r["shadow"]}
    known = {
        number: (pk, sha256)
        for number, pk, sha256 in scoped(PolicyVersion, tenant)
        .filter(policy=policy, number__in=wanted)
        .values_list("number", "id", "sha256")
    }

    def check(number: int, where: str, sha256: str | None = None) -> None:
        if number not in known:
            raise BatchError(where, f"policy “{policy.slug}” has no version {number}")
        if sha256 is not None and known[number][1] != sha256:
            raise BatchError(
                where.replace("version", "bundle_sha256"),
                f"is not the sha256 of version {number} of “{policy.slug}”",
            )

    for i, r in enumerate(upload.records):
        check(r["version"], f"records[{i}].version", r["bundle_sha256"])
        if r["shadow"]:
            shadow = r["shadow"]
            check(shadow["version"], f"records[{i}].shadow.version", shadow["bundle_sha256"])
    for i, c in enumerate(upload.counts):
        check(c["version"], f"counts[{i}].version")
    for i, c in enumerate(upload.shadow_counts):
        check(c["version"], f"shadow_counts[{i}].version")
        check(c["shadow_version"], f"shadow_counts[{i}].shadow_version")
    versions = {number: pk for number, (pk, _) in known.items()}
    try:
        with transaction.atomic():
            batch = DecisionBatch.objects.create(
                tenant=tenant,
                policy=policy,
                batch_id=upload.batch_id,
                instance_id=upload.instance_id,
                records=len(upload.records),
                dropped=upload.dropped,
            )
            records = DecisionRecord.objects.bulk_create(
                [_row(tenant, policy, batch, versions, r) for r in upload.records],
                batch_size=MAX_RECORDS,
            )
            counted = _add_counts(tenant, policy, upload.counts)
            _add_shadow_counts(tenant, policy, upload.shadow_counts)
            review_enqueue(records)
        if upload.shadow_counts:
            shadow_guards_check(
                policy=policy, channels={c["channel"] for c in upload.shadow_counts}
            )
    except IntegrityError:
        if scoped(DecisionBatch, tenant).filter(batch_id=upload.batch_id).exists():
            return IngestResult(upload.batch_id, stored=0, duplicate=True)
        raise
    return IngestResult(upload.batch_id, stored=len(records), duplicate=False, counted=counted)


def _row(tenant, policy, batch, versions: dict, r: dict) -> DecisionRecord:
    return DecisionRecord(
        tenant=tenant,
        policy=policy,
        version_id=versions[r["version"]],
        batch=batch,
        request_id=r["request_id"],
        decided_at=r["decided_at"],
        channel=r["channel"],
        action=r["action"],
        reasons=r["reasons"],
        audited="audit" in r["reasons"],
        inclusion_probability=r["inclusion_probability"],
        rules=r["rules"],
        scores=r["scores"],
        prompt=r["prompt"],
        thumbnail=r["thumbnail"],
        image_sha256=r["image_sha256"],
        shadow_version_id=versions[r["shadow"]["version"]] if r["shadow"] else None,
        shadow_action=r["shadow"]["action"] if r["shadow"] else "",
        shadow_rules=r["shadow"]["rules"] if r["shadow"] else [],
    )


def _add_counts(tenant, policy, counts: list[dict]) -> int:
    """Add the batch's counts to the per-minute counters with one upsert; return the total."""
    summed: Counter = Counter()
    for c in counts:
        summed[(c["minute"], c["channel"], c["version"], c["action"], c["rule_id"])] += c["count"]
    key = ("minute", "channel", "version_number", "action", "rule_id")
    _upsert(DecisionCount, tenant, policy, key, summed)
    return sum(summed.values())


def _add_shadow_counts(tenant, policy, counts: list[dict]) -> None:
    summed: Counter = Counter()
    for c in counts:
        summed[
            (
                c["minute"],
                c["channel"],
                c["version"],
                c["shadow_version"],
                c["action"],
                c["shadow_action"],
                c["rule_id"],
            )
        ] += c["count"]
    key = (
        "minute",
        "channel",
        "version_number",
        "shadow_version_number",
        "enforced_action",
        "shadow_action",
        "rule_id",
    )
    _upsert(ShadowCount, tenant, policy, key, summed)


def _upsert(model, tenant, policy, key: tuple[str, ...], summed: Counter) -> None:
    """INSERT … ON CONFLICT (its unique key) DO UPDATE SET count = count + EXCLUDED.count."""
    if not summed:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ("tenant_id", "policy_id", *key, "count")
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(summed))
    params = [v for k, n in summed.items() for v in (tenant.pk, policy.pk, *k, n)]
    conflict = ", ".join(columns[:-1])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "  # noqa: S608
            f"ON CONFLICT ({conflict}) DO UPDATE SET count = {table}.count + EXCLUDED.count",
            params,
        )
