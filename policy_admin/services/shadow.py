"""Shadow mode: a channel judges a candidate version beside the one it enforces (docs/fleet.md).

Setting, changing, stopping and promoting a shadow need the publish right and are
audited. Only published versions can be shadowed, so four eyes applied when the
candidate was published, exactly as for a promotion. A candidate older than the
enforced version is allowed (to measure what going back would change); the
channel page says so next to it. Servers learn of the shadow from the channel's
bundle responses and fetch it like any version.
"""

from django.db import transaction
from django.utils import timezone

from kernel.errors import ApplicationError
from policy_admin.fleet.pointers import pointer_forget
from policy_admin.models import Channel, Policy
from policy_admin.services.audit import audit_record
from policy_admin.services.publishing import _channel, _move, _version


def _state(channel: Channel) -> dict:
    return {
        "shadow_version": channel.shadow_version.number if channel.shadow_version else None,
        "shadow_rate": channel.shadow_rate,
        "guard_points": channel.guard_points,
        "guard_requests": channel.guard_requests,
    }


def _percent(rate: float) -> str:
    return f"{rate * 100:g}%"


@transaction.atomic
def shadow_set(
    *,
    policy: Policy,
    actor,
    channel: str,
    number: int,
    rate: float,
    guard_points: float | None = None,
    guard_requests: int | None = None,
) -> Channel:
    """Shadow version `number` on `rate` (0 to 1) of the channel's requests; or change it."""
    if not 0 <= rate <= 1:
        raise ApplicationError(f"The sample rate must be between 0% and 100%, not {rate:.0%}.")
    if (guard_points is None) != (guard_requests is None):
        raise ApplicationError(
            "A guard needs both its points and its number of requests, or neither."
        )
    if guard_points is not None and not 0 < guard_points <= 100:
        raise ApplicationError("The guard's points must be above 0 and at most 100.")
    if guard_requests is not None and guard_requests < 1:
        raise ApplicationError("The guard needs at least one request to judge by.")
    locked = _channel(policy, channel, lock=True)
    if locked.version_id is None:
        raise ApplicationError(
            f"Channel “{channel}” enforces nothing yet; promote a version first."
        )
    candidate = _version(policy, number)
    if candidate.pk == locked.version_id:
        raise ApplicationError(
            f"Channel “{channel}” already enforces v{number}; shadow a different version."
        )
    before = _state(locked)
    if locked.shadow_version_id != candidate.pk:
        locked.shadow_started_at = timezone.now()
    locked.shadow_version = candidate
    locked.shadow_rate = rate
    locked.guard_points, locked.guard_requests = guard_points, guard_requests
    locked.save()
    verb = "update" if before["shadow_version"] is not None else "create"
    older = " (older than the enforced version)" if number < locked.version.number else ""
    audit_record(
        tenant=policy.tenant,
        actor=actor,
        verb=verb,
        target=locked,
        target_type="shadow",
        target_name=f"{policy.name} / {channel}",
        policy=policy,
        summary=f"shadow on {channel}: v{number}{older} on {_percent(rate)} of requests",
        before=before,
        after=_state(locked),
    )
    transaction.on_commit(lambda: pointer_forget(policy=policy, channel=channel))
    return locked


def _end(locked: Channel) -> None:
    locked.shadow_version = None
    locked.shadow_rate = 0.0
    locked.shadow_started_at = None
    locked.guard_points = locked.guard_requests = None
    locked.save()


@transaction.atomic
def shadow_stop(
    *, policy: Policy, actor, channel: str, reason: str = "", by_guard: bool = False
) -> Channel:
    """End the channel's shadow; `reason` says why (the guard, actor None, gives its own)."""
    locked = _channel(policy, channel, lock=True)
    if locked.shadow_version_id is None:
        raise ApplicationError(f"Channel “{channel}” has no shadow to stop.")
    before = _state(locked)
    number = locked.shadow_version.number
    _end(locked)
    audit_record(
        tenant=policy.tenant,
        actor=actor,
        verb="delete",
        target=locked,
        target_type="shadow",
        target_name=f"{policy.name} / {channel}",
        policy=policy,
        summary=f"stopped the shadow of v{number} on {channel}" + (f": {reason}" if reason else ""),
        before=before,
        after={**_state(locked), "stopped_by": "guard" if by_guard else "member"},
    )
    transaction.on_commit(lambda: pointer_forget(policy=policy, channel=channel))
    return locked


@transaction.atomic
def shadow_promote(*, policy: Policy, actor, channel: str, note: str = "") -> Channel:
    """Move the channel to its shadow version and end the shadow, in one audited step."""
    locked = _channel(policy, channel, lock=True)
    if locked.shadow_version_id is None:
        raise ApplicationError(f"Channel “{channel}” has no shadow to promote.")
    candidate = locked.shadow_version
    _end(locked)
    return _move(
        policy=policy,
        actor=actor,
        name=channel,
        version=candidate,
        note=note or f"promoted from shadow (v{candidate.number})",
    )
