"""The channel pointer cache: (policy, channel) → (policy id, version, sha256, shadow).

The fleet API answers `If-None-Match` from this cache alone, so a 304 costs the
token lookup and one cache read. Entries are dropped when a channel moves
(after the transaction commits) and expire after MODERATION_FLEET_POINTER_TTL
seconds, which bounds how long a process with a private cache can lag.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from policy_admin.models import Channel, Policy

_MISSING = "missing"


@dataclass(frozen=True)
class Pointer:
    """What a channel points at; `number` and `sha256` are None for an empty channel."""

    policy_id: int
    number: int | None
    sha256: str | None
    # The channel's shadow (docs/fleet.md): None when it has none.
    shadow_number: int | None = None
    shadow_sha256: str | None = None
    shadow_rate: float = 0.0


def _key(tenant_id: int, policy_slug: str, channel: str) -> str:
    return f"fleet:ptr:v2:{tenant_id}:{policy_slug}:{channel}"  # v2: with the shadow


def pointer_get(*, tenant_id: int, policy_slug: str, channel: str) -> Pointer | None:
    """The channel's pointer (None: no such policy in this tenant), from cache when there."""
    key = _key(tenant_id, policy_slug, channel)
    hit = cache.get(key)
    if hit is None:
        hit = _load(tenant_id, policy_slug, channel)
        cache.set(key, hit, settings.MODERATION_FLEET_POINTER_TTL)
    return None if hit == _MISSING else Pointer(*hit)


def pointer_forget(*, policy: Policy, channel: str) -> None:
    """Drop the cached pointer of one channel (called when the channel moves)."""
    cache.delete(_key(policy.tenant_id, policy.slug, channel))


def _load(tenant_id: int, policy_slug: str, channel: str):
    policy_id = (
        Policy.objects.filter(tenant_id=tenant_id, slug=policy_slug)
        .values_list("pk", flat=True)
        .first()
    )
    if policy_id is None:
        return _MISSING
    row = (
        Channel.objects.filter(policy_id=policy_id, name=channel)
        .values_list(
            "version__number",
            "version__sha256",
            "shadow_version__number",
            "shadow_version__sha256",
            "shadow_rate",
        )
        .first()
    )
    return (policy_id, *(row or (None, None, None, None, 0.0)))
