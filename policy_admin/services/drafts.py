"""Optimistic concurrency for drafts: every save names the revision it started from."""

from django.utils import timezone

from kernel.errors import ConflictError
from policy_admin.models import AuditEvent, Policy


class StaleDraftError(ConflictError):
    """The draft changed since the client loaded it; nothing was saved."""


def draft_begin_change(*, policy: Policy, revision: int | None, actor) -> Policy:
    """Lock the policy row, refuse a stale revision, and move the draft to the next revision.

    Call inside the transaction that makes the change: the row lock makes two
    concurrent saves of one draft take turns, and the second sees the first's
    revision and is refused rather than overwriting it.
    """
    locked = Policy.objects.select_for_update().get(pk=policy.pk)
    if revision is None:
        raise StaleDraftError(
            "Say which revision of the draft this change is based on (the `revision` "
            f"field); the draft is at revision {locked.revision}."
        )
    if int(revision) != locked.revision:
        raise StaleDraftError(
            _stale_message(locked, int(revision)),
            extra={
                "current_revision": locked.revision,
            },
        )
    locked.revision += 1
    locked.updated_by = actor
    locked.updated_at = timezone.now()
    locked.save(update_fields=["revision", "updated_by", "updated_at"])
    policy.revision = locked.revision
    return locked


def _stale_message(policy: Policy, revision: int) -> str:
    last = AuditEvent.objects.filter(policy=policy).order_by("-created_at", "-id").first()
    who = (
        f" {last.actor_name} {last.get_verb_display().lower()} {last.target_type} "
        f"“{last.target_name}” at {last.created_at:%H:%M:%S} UTC ({last.summary})."
        if last
        else ""
    )
    return (
        f"This draft changed after you opened it (you had revision {revision}, it is now "
        f"{policy.revision}).{who} Reload to see their change, then apply yours again."
    )
