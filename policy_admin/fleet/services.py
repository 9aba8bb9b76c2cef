"""Fleet tokens (create, revoke, authenticate) and the status reports servers send."""

import dataclasses
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from kernel.errors import ApplicationError
from policy_admin.models import FleetInstance, FleetToken, Policy
from policy_admin.services.audit import audit_record
from tenants.models import slug_validator

_UNKNOWN = "unknown"  # cached for unknown secrets too, so guessing costs no query
# last_used_at is written at most this often per token, so polls stay read-only.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def fleet_token_create(
    *,
    tenant,
    actor,
    name: str,
    policies: list[Policy] | None = None,
    channels: list[str] | None = None,
    expires_at: datetime | None = None,
    scopes: list[str] | None = None,
) -> tuple[FleetToken, str]:
    """Create a token and return it with its secret; only the secret's sha256 is stored.

    `scopes` defaults to fetch and report (bundles, status and decision uploads).
    """
    policies, channels = policies or [], channels or []
    scopes = sorted(set(scopes if scopes is not None else FleetToken.SCOPES))
    unknown = sorted(set(scopes) - set(FleetToken.SCOPES))
    if unknown or not scopes:
        raise ApplicationError(
            f"A token's scopes are one or more of {', '.join(FleetToken.SCOPES)}"
            + (f"; “{unknown[0]}” is not one." if unknown else ".")
        )
    if any(p.tenant_id != tenant.pk for p in policies):
        raise ApplicationError("A token can only be scoped to this tenant's policies.")
    for channel in channels:
        try:
            slug_validator(channel)
        except Exception:
            raise ApplicationError(f"“{channel}” is not a channel name.") from None
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError("The expiry must be in the future.")
    secret = FleetToken.PREFIX + secrets.token_urlsafe(32)
    token = FleetToken(
        tenant=tenant,
        name=name,
        token_prefix=secret[:12],
        token_hash=token_hash(secret),
        policy_ids=sorted(p.pk for p in policies),
        channels=sorted(set(channels)),
        scopes=scopes,
        expires_at=expires_at,
        created_by=actor,
    )
    token.full_clean()
    token.save()
    audit_record(
        tenant=tenant,
        actor=actor,
        verb="create",
        target=token,
        target_type="fleet token",
        summary=f"created fleet token {name}",
        after={
            "policies": [p.slug for p in policies],
            "channels": token.channels,
            "scopes": token.scopes,
        },
    )
    return token, secret


@transaction.atomic
def fleet_token_revoke(*, token: FleetToken, actor) -> FleetToken:
    """Revoke a token from now on; revoking twice is refused."""
    token = FleetToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise ApplicationError(f"The token {token.name} is already revoked.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    transaction.on_commit(lambda: cache.delete(_cache_key(token.token_hash)))
    audit_record(
        tenant=token.tenant,
        actor=actor,
        verb="revoke",
        target=token,
        target_type="fleet token",
        summary=f"revoked fleet token {token.name}",
    )
    return token


def _cache_key(hashed: str) -> str:
    return f"fleet:token:v2:{hashed}"  # v2: callers carry scopes


@dataclass(frozen=True)
class FleetCaller:
    """What a request needs of its token: cached as a plain tuple, cheap to unpickle."""

    pk: int
    tenant_id: int
    policy_ids: tuple[int, ...]
    channels: tuple[str, ...]
    scopes: tuple[str, ...]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: FleetToken) -> "FleetCaller":
        return cls(
            token.pk,
            token.tenant_id,
            tuple(token.policy_ids),
            tuple(token.channels),
            tuple(token.scopes),
            token.expires_at,
            token.revoked_at,
            token.last_used_at,
        )

    def allows(self, *, policy_id: int, channel: str | None) -> bool:
        """Whether the token's scope covers this policy and (when given) this channel."""
        return FleetToken.allows(self, policy_id=policy_id, channel=channel)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def fleet_token_authenticate(secret: str) -> FleetCaller | None:
    """The live token with this secret (not revoked, not expired), or None.

    The row is cached for MODERATION_FLEET_TOKEN_CACHE_SECONDS, so a poll
    usually costs no query; a revoke drops the entry (in a shared cache, at
    once; in a per-process cache, other processes within that time).
    """
    if not secret.startswith(FleetToken.PREFIX):
        return None
    hashed = token_hash(secret)
    token = cache.get(_cache_key(hashed))
    if token is None:
        rows = list(FleetToken.objects.filter(token_hash=hashed)[:1])
        token = FleetCaller.of(rows[0]) if rows else _UNKNOWN
        cache.set(_cache_key(hashed), token, settings.MODERATION_FLEET_TOKEN_CACHE_SECONDS)
    if isinstance(token, str):
        return None
    now = timezone.now()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token = dataclasses.replace(token, last_used_at=now)
        FleetToken.objects.filter(pk=token.pk).update(last_used_at=now)
        cache.set(_cache_key(hashed), token, settings.MODERATION_FLEET_TOKEN_CACHE_SECONDS)
    return token


def fleet_status_record(*, token: FleetCaller, report: dict) -> FleetInstance:
    """Store the latest report of (tenant, instance_id); the previous one is replaced."""
    instance, _created = FleetInstance.objects.update_or_create(
        tenant_id=token.tenant_id,
        instance_id=report["instance_id"],
        defaults={
            "labels": report.get("labels") or {},
            "bundles": report.get("bundles") or [],
            "models_loaded": report.get("models") or {},
            "token_id": token.pk,
            "last_seen": timezone.now(),
        },
    )
    return instance
