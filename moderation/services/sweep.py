"""The periodic sweep of runs whose worker went silent, so nobody has to open them first.

A live test is failed with a reason (run_reap): it is short, and the person
who started it retries it. A suite is queued again (suite_reap) and resumes
with the samples that have no result yet, exactly as when its page is read or
its acks_late task is redelivered; suite_claim lets only one of those take it.
"""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from moderation.models import TestRun
from moderation.services.runs import run_reap
from moderation.services.suites import suite_reap
from tenants.models import Tenant
from tenants.scoping import scoped

log = logging.getLogger(__name__)


def stale_runs_reap(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Fail stale live tests and re-queue stale suites, in every tenant; counts by outcome."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=settings.MODERATION_RUN_STALE_SECONDS)
    counts = {"failed": 0, "requeued": 0}
    for tenant in Tenant.objects.order_by("pk"):
        stale = scoped(TestRun, tenant).filter(
            status=TestRun.Status.RUNNING, heartbeat_at__lt=cutoff
        )
        for run in stale:
            reaped = suite_reap(run) if run.kind == TestRun.Kind.SUITE else run_reap(run)
            if reaped.status == TestRun.Status.FAILED:
                counts["failed"] += 1
            elif reaped.status == TestRun.Status.PENDING:
                counts["requeued"] += 1
    if any(counts.values()):
        log.warning("stale runs swept: %s", counts)
    return counts
