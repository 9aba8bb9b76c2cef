"""Publishing a draft as an immutable signed version, and moving channels between versions.

Publishing runs in the calling (web) process: it builds with this process's
model registry (`kernel.registry.models()`), which computes embedding and
concept vectors on first use. Policies with many concept images take seconds;
see docs/fleet.md.
"""

import dataclasses

from django.db import IntegrityError, transaction

from kernel import registry
from kernel.errors import ApplicationError, ConflictError
from moderation.engine.bundle.types import Bundle
from policy_admin.bundles import signing
from policy_admin.fleet.pointers import pointer_forget
from policy_admin.models import Channel, ChannelMove, Policy, PolicyVersion
from policy_admin.services.approvals import approval_check
from policy_admin.services.audit import audit_record
from policy_admin.services.drafts import StaleDraftError
from policy_admin.services.robustness import robustness_floor_check
from tenants.models import slug_validator


class PublishRaceError(ConflictError):
    """Another publish of the same draft revision won; this one wrote nothing."""


def policy_publish(*, policy: Policy, actor, revision: int | None, note: str = "") -> PolicyVersion:
    """Build the draft strictly and store it as version N+1, signed by every current key.

    Guarantees: a stale revision is refused; numbers are consecutive with no gap
    or duplicate (the policy row lock serialises publishers, the named unique
    constraint backs it); a second publish of a revision already published
    while it waited is refused with a ConflictError telling it to retry; when the
    tenant requires four eyes, a revision nobody but its authors approved is refused;
    with the policy's robustness floor on, so is a draft whose keyword sets' latest
    robustness reports fall under it (each operator named, with escaped examples).
    """
    from policy_admin.bundles.builder import bundle_build

    _check_revision(policy, revision)
    approval_check(policy=policy, revision=int(revision))
    robustness_floor_check(policy=policy)
    # Built outside the transaction: the policy row lock (which draft saves also
    # take) is held only while the number is taken and the version stored, and
    # _store re-checks the revision under it, so a save during the build is caught.
    bundle = bundle_build(policy=policy, models=registry.models(), strict=True).bundle
    _refuse_empty(bundle)
    return _store(policy=policy, actor=actor, revision=revision, bundle=bundle, note=note)


@transaction.atomic
def _store(*, policy, actor, revision, bundle, note, restores=None) -> PolicyVersion:
    locked = Policy.objects.select_for_update().get(pk=policy.pk)
    if restores is None:
        _check_fresh(locked, revision)
        approval_check(policy=locked, revision=locked.revision)
    latest = PolicyVersion.objects.filter(policy=locked).order_by("-number").first()
    number = (latest.number if latest else 0) + 1
    bundle = dataclasses.replace(bundle, policy=dataclasses.replace(bundle.policy, version=number))
    data = bundle.to_bytes()
    version = PolicyVersion(
        tenant=locked.tenant,
        policy=locked,
        number=number,
        bundle=data,
        sha256=bundle.sha256,
        signatures=signing.sign(data),
        revision=bundle.policy.revision,
        parent=latest,
        restores=restores,
        note=note,
        author=actor,
    )
    version.full_clean(exclude=["bundle"])
    try:
        with transaction.atomic():
            version.save()
    except IntegrityError:
        raise PublishRaceError(_RETRY) from None
    verb, what = ("rollback", f"restoring v{restores.number}") if restores else ("publish", "")
    audit_record(
        tenant=locked.tenant,
        actor=actor,
        verb=verb,
        target=version,
        target_type="version",
        policy=locked,
        summary=f"published v{number} from revision {version.revision} {what}".strip()
        + (f": {note}" if note else ""),
        after={"number": number, "sha256": version.sha256, "keys": version.key_ids},
    )
    return version


_RETRY = "Someone else published this policy at the same moment. Reload and publish again."


def _check_revision(policy: Policy, revision: int | None) -> None:
    current = Policy.objects.values_list("revision", flat=True).get(pk=policy.pk)
    if revision is None or int(revision) != current:
        raise StaleDraftError(
            f"You are publishing revision {revision} but the draft is at revision {current}. "
            "Reload, check the changes, and publish again.",
            extra={"current_revision": current},
        )


def _check_fresh(locked: Policy, revision: int) -> None:
    if locked.revision != int(revision):
        raise StaleDraftError(
            f"The draft changed while it was being built (now revision {locked.revision}). "
            "Reload and publish again.",
            extra={"current_revision": locked.revision},
        )
    taken = (
        PolicyVersion.objects.select_related("author")
        .filter(policy=locked, revision=locked.revision, restores__isnull=True)
        .first()
    )
    if taken is not None:
        raise PublishRaceError(
            f"Revision {locked.revision} was just published as v{taken.number} by "
            f"{getattr(taken.author, 'username', 'someone')}. Reload; publish again only "
            "after a change."
        )


def _refuse_empty(bundle: Bundle) -> None:
    own = [t for t in bundle.thresholds if t.source == "policy"]
    own += [k for k in bundle.keyword_sets if k.id.startswith("keywords:")]
    if not (own or bundle.embedding_sets or bundle.concepts or bundle.classifiers):
        raise ApplicationError(
            "This policy has no rules of its own (no enabled threshold, no keyword set with "
            "terms, no embedding set, no concept, no classifier with a version in use). Add "
            "one before publishing: an empty bundle "
            "would be read by the fleet as “no rules”."
        )


def channel_promote(*, policy: Policy, actor, channel: str, number: int, note: str = "") -> Channel:
    """Point `channel` (created on first use) at version `number`; recorded and audited."""
    version = _version(policy, number)
    return _move(policy=policy, actor=actor, name=channel, version=version, note=note)


def channel_rollback(
    *, policy: Policy, actor, channel: str, number: int, note: str = ""
) -> Channel:
    """Point `channel` at a NEW version repeating version `number`'s rules.

    The new version has the next number, so agents' anti-rollback (numbers never
    go down) accepts it; its bytes differ from the old ones only in the number.
    """
    old = _version(policy, number)
    bundle = Bundle.from_bytes(bytes(old.bundle))
    with transaction.atomic():
        current = _channel(policy, channel, lock=True)
        if current.version_id is None:
            raise ApplicationError(f"Channel “{channel}” has no version yet; promote one first.")
        if current.version.number == old.number:
            raise ApplicationError(f"Channel “{channel}” already runs v{old.number}.")
        version = _store(
            policy=policy,
            actor=actor,
            revision=old.revision,
            bundle=bundle,
            note=note,
            restores=old,
        )
        return _move(
            policy=policy, actor=actor, name=channel, version=version, note=note, rollback=True
        )


@transaction.atomic
def _move(*, policy, actor, name, version, note, rollback=False) -> Channel:
    channel = _channel(policy, name, lock=True, create=True)
    previous = channel.version
    channel.version = version
    channel.save(update_fields=["version", "updated_at"])
    kind = ChannelMove.Kind.ROLLBACK if rollback else ChannelMove.Kind.PROMOTE
    ChannelMove.objects.create(
        tenant=policy.tenant,
        channel=channel,
        kind=kind,
        from_version=previous,
        to_version=version,
        note=note,
        actor=actor,
    )
    was = f"v{previous.number}" if previous else "nothing"
    audit_record(
        tenant=policy.tenant,
        actor=actor,
        verb=kind.value,
        target=channel,
        target_type="channel",
        policy=policy,
        summary=f"channel {name}: {was} → v{version.number}" + (f": {note}" if note else ""),
        before={"version": previous.number if previous else None},
        after={"version": version.number},
    )
    transaction.on_commit(lambda: pointer_forget(policy=policy, channel=name))
    return channel


def _version(policy: Policy, number: int) -> PolicyVersion:
    try:
        return PolicyVersion.objects.get(tenant=policy.tenant, policy=policy, number=number)
    except PolicyVersion.DoesNotExist:
        raise ApplicationError(f"{policy.name} has no version {number}.") from None


def _channel(policy: Policy, name: str, *, lock: bool, create: bool = False) -> Channel:
    rows = Channel.objects.select_related("version")
    if lock:
        rows = rows.select_for_update(of=("self",))
    channel = rows.filter(policy=policy, name=name).first()
    if channel is not None:
        return channel
    if not create:
        raise ApplicationError(f"{policy.name} has no channel “{name}”.")
    try:
        slug_validator(name)
    except Exception:
        raise ApplicationError(
            f"“{name}” is not a channel name: use lowercase letters, digits and single hyphens."
        ) from None
    Channel.objects.get_or_create(tenant=policy.tenant, policy=policy, name=name)
    return rows.get(policy=policy, name=name)
