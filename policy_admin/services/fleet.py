"""Fleet tokens (create, revoke, authenticate) and the status reports servers send."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from policy_admin.errors import ApplicationError
from policy_admin.models import FleetInstance, FleetToken, Policy
from policy_admin.services.audit import audit_record
from tenants.models import slug_validator

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
) -> tuple[FleetToken, str]:
    """Create a token and return it with its secret; only the secret's sha256 is stored."""
    policies, channels = policies or [], channels or []
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
        after={"policies": [p.slug for p in policies], "channels": token.channels},
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
    audit_record(
        tenant=token.tenant,
        actor=actor,
        verb="revoke",
        target=token,
        target_type="fleet token",
        summary=f"revoked fleet token {token.name}",
    )
    return token


def fleet_token_authenticate(secret: str) -> FleetToken | None:
    """The live token with this secret (not revoked, not expired), or None. One query."""
    if not secret.startswith(FleetToken.PREFIX):
        return None
    token = FleetToken.objects.filter(token_hash=token_hash(secret)).first()
    now = timezone.now()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        FleetToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def fleet_status_record(*, token: FleetToken, report: dict) -> FleetInstance:
    """Store the latest report of (tenant, instance_id); the previous one is replaced."""
    instance, _created = FleetInstance.objects.update_or_create(
        tenant_id=token.tenant_id,
        instance_id=report["instance_id"],
        defaults={
            "labels": report.get("labels") or {},
            "bundles": report.get("bundles") or [],
            "models_loaded": report.get("models") or {},
            "token": token,
            "last_seen": timezone.now(),
        },
    )
    return instance
