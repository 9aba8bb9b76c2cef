"""Creating, renaming and deleting policies, and the shared way every rule change is saved."""

from django.db import models, transaction
from django.forms.models import model_to_dict

from kernel.errors import ConflictError
from policy_admin.models import Policy
from policy_admin.services.audit import audit_record, changes, describe_changes
from policy_admin.services.drafts import draft_begin_change

POLICY_FIELDS = ("name", "slug", "description", "robustness_floor", "failure_mode")


@transaction.atomic
def policy_create(*, tenant, actor, name: str, slug: str, description: str = "") -> Policy:
    """Create an empty policy for the tenant; its slug is unique within the tenant."""
    if Policy.objects.filter(tenant=tenant, slug=slug).exists():
        raise ConflictError(f"{tenant.name} already has a policy with the slug “{slug}”.")
    policy = Policy(
        tenant=tenant,
        name=name,
        slug=slug,
        description=description,
        created_by=actor,
        updated_by=actor,
    )
    policy.full_clean()
    policy.save()
    audit_record(
        tenant=tenant,
        actor=actor,
        verb="create",
        target=policy,
        policy=policy,
        summary=f"created policy {name}",
        after=snapshot(policy, POLICY_FIELDS),
    )
    return policy


@transaction.atomic
def policy_update(*, policy: Policy, actor, revision: int | None, **fields) -> Policy:
    """Change a policy's name, slug, description or failure mode, refusing a stale revision."""
    return rule_save(policy=policy, rule=policy, actor=actor, revision=revision, fields=fields)


@transaction.atomic
def policy_delete(*, policy: Policy, actor, revision: int | None) -> None:
    """Delete a policy and its draft; its audit events stay in the tenant's log."""
    draft_begin_change(policy=policy, revision=revision, actor=actor)
    audit_record(
        tenant=policy.tenant,
        actor=actor,
        verb="delete",
        target=policy,
        policy=policy,
        summary=f"deleted policy {policy.name}",
        before=snapshot(policy, POLICY_FIELDS),
    )
    policy.delete()


def snapshot(obj: models.Model, fields) -> dict:
    """The named fields of `obj` as JSON-able values (long text summarised by its size)."""
    data = model_to_dict(obj, fields=fields)
    for key, value in data.items():
        if isinstance(value, str) and len(value) > 500:
            data[key] = f"{len(value.splitlines()):,} lines"
    return data


def rule_save(
    *,
    policy: Policy,
    rule: models.Model,
    actor,
    revision: int | None,
    fields: dict,
    audit_fields=None,
    verb: str | None = None,
    summary: str = "",
) -> models.Model:
    """Apply `fields` to a rule (or the policy) as one audited, revision-checked draft change.

    Must run inside a transaction (the callers are @transaction.atomic).
    """
    audit_fields = tuple(audit_fields or fields)
    creating = rule.pk is None
    before = {} if creating else snapshot(rule, audit_fields)
    locked = draft_begin_change(policy=policy, revision=revision, actor=actor)
    if rule is policy:
        rule = locked
    for key, value in fields.items():
        setattr(rule, key, value)
    rule.full_clean()
    rule.save()
    after = snapshot(rule, audit_fields)
    old, new = (before, after) if creating else changes(before, after)
    kind = rule._meta.verbose_name
    audit_record(
        tenant=policy.tenant,
        actor=actor,
        verb=verb or ("create" if creating else "update"),
        target=rule,
        policy=policy,
        summary=summary
        or (f"added {kind} {rule}" if creating else f"{kind} {rule}: {describe_changes(old, new)}"),
        before=old or None,
        after=new,
    )
    return rule


def rule_delete(*, policy: Policy, rule: models.Model, actor, revision: int | None, fields) -> None:
    """Delete a rule as one audited, revision-checked draft change."""
    draft_begin_change(policy=policy, revision=revision, actor=actor)
    audit_record(
        tenant=policy.tenant,
        actor=actor,
        verb="delete",
        target=rule,
        policy=policy,
        summary=f"deleted {rule._meta.verbose_name} {rule}",
        before=snapshot(rule, fields),
    )
    try:
        rule.delete()
    except models.RestrictedError as error:
        users = ", ".join(f"“{obj}”" for obj in error.restricted_objects)
        raise ConflictError(
            f"{rule._meta.verbose_name.capitalize()} {rule} is read by the conditional rule(s) "
            f"{users}; change or delete those first."
        ) from None
