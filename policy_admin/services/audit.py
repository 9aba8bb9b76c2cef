"""Recording changes in the audit log."""

from django.db import models

from policy_admin.models import AuditEvent, Policy


def audit_record(
    *,
    tenant,
    actor,
    verb: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_name: str = "",
    policy: Policy | None = None,
    summary: str,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event to the log; the caller's transaction makes it atomic with the change."""
    if target is not None:
        target_type = target_type or target._meta.verbose_name
        target_name = target_name or str(target)
    return AuditEvent.objects.create(
        tenant=tenant,
        actor=actor,
        actor_name=getattr(actor, "username", "") or "system",
        verb=verb,
        target_type=target_type,
        target_id=str(target.pk) if target is not None and target.pk else "",
        target_name=target_name[:200],
        policy=policy,
        policy_name=policy.name if policy else "",
        summary=summary[:500],
        before=before,
        after=after,
    )


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that differ, as (before, after) dictionaries."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def describe_changes(before: dict, after: dict) -> str:
    """'threshold 0.6 → 0.7, action review → block' for the fields that changed."""
    parts = []
    for key, new in after.items():
        old = before.get(key)
        if isinstance(new, list | dict) or isinstance(old, list | dict):
            parts.append(key.replace("_", " "))
        else:
            parts.append(f"{key.replace('_', ' ')} {old} → {new}")
    return ", ".join(parts) or "no change"
