"""Reads of the scoring side; tenant-owned queries go through tenants.scoping."""

from django.db.models import QuerySet

from moderation.models import TestRun
from moderation.services.runs import run_reap
from tenants.scoping import scoped


def run_list(*, tenant, policy=None, kind: str = "") -> QuerySet[TestRun]:
    """The tenant's runs, newest first, optionally of one policy and kind."""
    runs = scoped(TestRun, tenant).select_related("policy", "created_by").prefetch_related("images")
    if policy is not None:
        runs = runs.filter(policy=policy)
    if kind:
        runs = runs.filter(kind=kind)
    return runs.order_by("-created_at", "-id")


def run_get(*, tenant, pk: int) -> TestRun:
    """One of the tenant's runs, failed first if its worker went silent."""
    run = run_list(tenant=tenant).get(pk=pk)
    return run_reap(run)
