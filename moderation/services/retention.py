"""Raw decision records are kept for their tenant's retention period, then deleted by beat.

Counts (DecisionCount) are kept: they are small, and the dashboards read them.
Deleting a record deletes its review items and labels with it (CASCADE); labels
already exported to a sample set live on there.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from moderation.models import DecisionRecord, ProductionSettings
from tenants.models import Tenant
from tenants.scoping import scoped

DEFAULT_RETENTION_DAYS = ProductionSettings._meta.get_field("retention_days").default
# Rows per DELETE, so one night's prune never holds a long lock on the table.
PRUNE_CHUNK = 5000


def retention_days(tenant) -> int:
    """The tenant's retention period in days (the default when it never set one)."""
    found = scoped(ProductionSettings, tenant).values_list("retention_days", flat=True).first()
    return found or DEFAULT_RETENTION_DAYS


def decision_records_prune(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete every tenant's records decided before its retention period; count per tenant slug."""
    now = now or timezone.now()
    deleted = {}
    for tenant in Tenant.objects.order_by("pk"):
        before = now - dt.timedelta(days=retention_days(tenant))
        old = scoped(DecisionRecord, tenant).filter(decided_at__lt=before)
        total = 0
        while pks := list(old.values_list("pk", flat=True)[:PRUNE_CHUNK]):
            with transaction.atomic():
                DecisionRecord.objects.filter(pk__in=pks).delete()
            total += len(pks)
        if total:
            deleted[tenant.slug] = total
    return deleted
