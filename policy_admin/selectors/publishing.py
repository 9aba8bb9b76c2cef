"""Reads for publishing pages and the API: versions, channels, history, diffs, rollout."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from moderation.engine.bundle.types import Bundle
from policy_admin.bundles.diff import BundleDiff, bundle_diff
from policy_admin.models import Channel, ChannelMove, FleetInstance, Policy, PolicyVersion


def version_list(*, policy: Policy) -> QuerySet:
    """The policy's versions, newest first, without their bundle bytes."""
    return (
        PolicyVersion.objects.filter(tenant=policy.tenant, policy=policy)
        .defer("bundle")
        .select_related("author", "restores")
        .order_by("-number")
    )


def version_get(*, policy: Policy, number: int) -> PolicyVersion:
    """One version of the policy; PolicyVersion.DoesNotExist otherwise."""
    return PolicyVersion.objects.get(tenant=policy.tenant, policy=policy, number=number)


def channel_list(*, policy: Policy) -> QuerySet:
    """The policy's channels with the version each points at."""
    return Channel.objects.filter(tenant=policy.tenant, policy=policy).select_related(
        "version", "shadow_version"
    )


def channel_history(*, channel: Channel) -> QuerySet:
    """Every move of the channel, newest first."""
    return ChannelMove.objects.filter(tenant=channel.tenant, channel=channel).select_related(
        "from_version", "to_version", "actor"
    )


def latest_version_number(*, policy: Policy) -> int | None:
    """The highest published number, or None before the first publish."""
    return version_list(policy=policy).values_list("number", flat=True).first()


def version_diff(*, policy: Policy, old: int, new: int) -> BundleDiff:
    """What changed from version `old` to version `new` of the policy."""
    before, after = version_get(policy=policy, number=old), version_get(policy=policy, number=new)
    return bundle_diff(
        Bundle.from_bytes(bytes(before.bundle)), Bundle.from_bytes(bytes(after.bundle))
    )


@dataclass
class RolloutRow:
    """One server's state for one channel, as the rollout page shows it."""

    instance: FleetInstance
    version: int | None
    sha256: str | None
    rejected: dict | None
    stale: bool
    current: bool
    # The server's shadow slot: {"version", "sha256", "rate", "last_rejected"}, or None.
    shadow: dict | None = None


def stale_after() -> timedelta:
    """How long without a report makes a server stale (poll interval × stale polls)."""
    return timedelta(
        seconds=settings.MODERATION_FLEET_POLL_SECONDS * settings.MODERATION_FLEET_STALE_POLLS
    )


def channel_rollout(*, channel: Channel, now: datetime | None = None) -> list[RolloutRow]:
    """The servers that reported this policy's channel: what they run, refused, and if stale."""
    cutoff = (now or timezone.now()) - stale_after()
    target = channel.version.sha256 if channel.version_id else None
    rows = []
    for instance in FleetInstance.objects.filter(tenant=channel.tenant).order_by("instance_id"):
        entry = next(
            (
                b
                for b in instance.bundles
                if b.get("policy") == channel.policy.slug and b.get("channel") == channel.name
            ),
            None,
        )
        if entry is None:
            continue
        rows.append(
            RolloutRow(
                instance=instance,
                version=entry.get("version"),
                sha256=entry.get("sha256"),
                rejected=entry.get("last_rejected"),
                stale=instance.last_seen < cutoff,
                current=target is not None and entry.get("sha256") == target,
                shadow=entry.get("shadow"),
            )
        )
    return rows
