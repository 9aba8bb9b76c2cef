"""Which production decisions a policy's bundles tell the fleet to keep (docs/production.md)."""

from django.db import transaction

from policy_admin.models import DecisionSampling, Policy
from policy_admin.selectors.policies import decision_sampling
from policy_admin.services.audit import audit_record, changes, describe_changes

SAMPLING_FIELDS = ("enabled", "review_per_minute", "audit_share", "keep_blocks", "thumbnail_px")


def _snapshot(sampling: DecisionSampling) -> dict:
    return {name: getattr(sampling, name) for name in SAMPLING_FIELDS}


@transaction.atomic
def sampling_save(*, policy: Policy, actor, **fields) -> DecisionSampling:
    """Change the sampling rules; audited. They reach the fleet with the next published version."""
    sampling = decision_sampling(policy)
    before = _snapshot(sampling)
    for name, value in fields.items():
        if name not in SAMPLING_FIELDS:
            raise TypeError(f"{name} is not a sampling setting")
        setattr(sampling, name, value)
    sampling.full_clean()
    sampling.save()
    old, new = changes(before, _snapshot(sampling))
    if new:
        audit_record(
            tenant=policy.tenant,
            actor=actor,
            verb="update",
            target=sampling,
            target_type="decision sampling",
            target_name=policy.name,
            policy=policy,
            summary=f"changed production sampling: {describe_changes(old, new)}",
            before=old,
            after=new,
        )
    return sampling
