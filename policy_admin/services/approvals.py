"""Four-eyes publishing: when a tenant requires it, another member approves the exact revision.

An approval names a draft revision; every edit moves the draft to a new
revision, so an edit after approval leaves the new revision unapproved. The
authors of a revision (everyone who changed the draft since the last publish)
cannot approve it.
"""

from django.db import IntegrityError, transaction

from kernel.errors import ApplicationError, ConflictError
from policy_admin.models import (
    AuditEvent,
    Policy,
    PolicyVersion,
    PublishApproval,
    PublishingSettings,
)
from policy_admin.services.audit import audit_record
from policy_admin.services.drafts import StaleDraftError


def approval_required(*, tenant) -> bool:
    """Whether the tenant's publishes need another member's approval."""
    return PublishingSettings.objects.filter(tenant=tenant, require_approval=True).exists()


@transaction.atomic
def publishing_settings_set(*, tenant, actor, require_approval: bool) -> PublishingSettings:
    """Turn four-eyes publishing on or off for the tenant; audited."""
    row, _ = PublishingSettings.objects.select_for_update().get_or_create(tenant=tenant)
    if row.require_approval != require_approval:
        row.require_approval = require_approval
        row.save(update_fields=["require_approval"])
        audit_record(
            tenant=tenant,
            actor=actor,
            verb="update",
            target=row,
            target_type="publishing settings",
            summary=f"four-eyes publishing {'on' if require_approval else 'off'}",
            after={"require_approval": require_approval},
        )
    return row


def draft_authors(*, policy: Policy) -> set[int]:
    """Ids of everyone who changed the draft since its last publish (or ever, before one)."""
    last = PolicyVersion.objects.filter(policy=policy).order_by("-number").first()
    events = AuditEvent.objects.filter(policy=policy, actor__isnull=False).exclude(
        verb__in=["publish", "promote", "rollback", "approve"]
    )
    if last is not None:
        events = events.filter(created_at__gt=last.created_at)
    return set(events.values_list("actor_id", flat=True))


@transaction.atomic
def policy_approve(*, policy: Policy, actor, revision: int | None) -> PublishApproval:
    """Approve the draft at `revision` for publishing; refuses its authors and stale revisions."""
    locked = Policy.objects.select_for_update().get(pk=policy.pk)
    if revision is None or int(revision) != locked.revision:
        raise StaleDraftError(
            f"You are approving revision {revision} but the draft is at revision "
            f"{locked.revision}. Reload and review the latest changes.",
            extra={"current_revision": locked.revision},
        )
    if actor.pk in draft_authors(policy=locked):
        raise ApplicationError(
            "You changed this draft since it was last published, so you cannot approve it: "
            "ask another editor or admin."
        )
    try:
        with transaction.atomic():
            approval = PublishApproval.objects.create(
                tenant=locked.tenant, policy=locked, revision=locked.revision, approver=actor
            )
    except IntegrityError:
        raise ConflictError("You already approved this revision.") from None
    audit_record(
        tenant=locked.tenant,
        actor=actor,
        verb="approve",
        target=approval,
        target_type="approval",
        policy=locked,
        summary=f"approved revision {locked.revision} for publishing",
    )
    return approval


def approval_check(*, policy: Policy, revision: int) -> None:
    """Refuse a publish that needs an approval of `revision` and has none from a non-author."""
    if not approval_required(tenant=policy.tenant):
        return
    authors = draft_authors(policy=policy)
    approvers = PublishApproval.objects.filter(policy=policy, revision=revision).values_list(
        "approver_id", flat=True
    )
    if not any(a is not None and a not in authors for a in approvers):
        raise ApplicationError(
            f"{policy.tenant.name} requires a second person's approval: revision {revision} "
            "has none (an edit after an approval needs a new one). Ask another editor or admin "
            "to approve it, then publish."
        )


def approvers(*, policy: Policy, revision: int) -> list[str]:
    """Usernames of the members who approved this revision."""
    rows = PublishApproval.objects.filter(policy=policy, revision=revision, approver__isnull=False)
    return list(rows.values_list("approver__username", flat=True))
