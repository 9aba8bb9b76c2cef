"""The fleet's decision uploads: plain Django views with Bearer fleet tokens, like the bundles.

POST /api/v1/fleet/policies/<policy>/decisions takes one batch of the agent's
decision log (contract in docs/production.md): 201 stored, 200 for a batch id
seen before, 400 naming the field, 413 over the size limit; nothing is half-stored.
"""

import json

from django.http import JsonResponse
from django.views.decorators.http import require_POST

from moderation.services.decision_batch import (
    MAX_BODY_BYTES,
    BatchError,
    parse_decision_batch,
    upload_channels,
)
from moderation.services.ingest import decisions_ingest
from policy_admin.fleet.api.bundles import FleetError, fleet_view, require_scope
from policy_admin.models import Policy
from tenants.models import Tenant
from tenants.scoping import scoped


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@require_POST
@fleet_view
def decisions_upload(request, token, policy: str):
    """Store one batch of production decisions from an agent."""
    require_scope(token, "report")
    tenant = Tenant.objects.get(pk=token.tenant_id)
    found = scoped(Policy, tenant).filter(slug=policy).first()
    if found is None:
        raise FleetError(404, f"No policy “{policy}”.")
    if not token.allows(policy_id=found.pk, channel=None):
        raise FleetError(403, f"This fleet token is not scoped to policy “{policy}”.")
    if _declared_length(request) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        raise FleetError(
            413,
            f"A decision batch is at most {MAX_BODY_BYTES // (1024 * 1024)} MiB; "
            "send fewer records per batch.",
        )
    try:
        upload = parse_decision_batch(json.loads(request.body or b"null"))
        for channel in sorted(upload_channels(upload)):
            if not token.allows(policy_id=found.pk, channel=channel):
                raise FleetError(
                    403, f"This fleet token is not scoped to channel “{channel}” of “{policy}”."
                )
        result = decisions_ingest(tenant=tenant, policy=found, upload=upload)
    except ValueError as error:  # JSON syntax, or BatchError naming the field
        field = error.field if isinstance(error, BatchError) else ""
        message = str(error) if field else f"The body is not valid JSON: {error}"
        response = JsonResponse(
            {
                "message": f"The decision batch is not valid: {message}",
                "field": field,
                "extra": {"field": field},
            },
            status=400,
        )
        return response
    return JsonResponse(
        {"batch_id": result.batch_id, "stored": result.stored, "duplicate": result.duplicate},
        status=200 if result.duplicate else 201,
    )
