"""Reads of the policy-authoring app; every tenant-owned query goes through tenants.scoping."""

import datetime as dt

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from policy_admin.models import (
    AuditEvent,
    CategoryThreshold,
    ClipConcept,
    ConditionalRule,
    DecisionSampling,
    EmbeddingRuleSet,
    FloorCategory,
    FloorKeywordSet,
    KeywordRuleSet,
    Policy,
    PolicyVersion,
)
from tenants.scoping import scoped


def policy_list(*, tenant, search: str = "") -> QuerySet[Policy]:
    """The tenant's policies with rule counts; `search` matches name, slug or description."""
    policies = (
        scoped(Policy, tenant)
        .select_related("updated_by")
        .annotate(
            keyword_set_count=Count("keyword_sets", distinct=True),
            embedding_set_count=Count("embedding_sets", distinct=True),
            concept_count=Count("concepts", distinct=True),
            threshold_count=Count("category_thresholds", distinct=True),
            published_version=Subquery(
                PolicyVersion.objects.filter(policy=OuterRef("pk"))
                .order_by("-number")
                .values("number")[:1]
            ),
        )
    )
    if search:
        policies = policies.filter(
            Q(name__icontains=search) | Q(slug__icontains=search) | Q(description__icontains=search)
        )
    return policies.order_by("name")


def policy_get(*, tenant, slug: str) -> Policy:
    """The tenant's policy with this slug; Policy.DoesNotExist (a 404) for any other tenant's."""
    return scoped(Policy, tenant).get(slug=slug)


def policy_draft(*, policy: Policy) -> dict:
    """Every rule of the policy's draft, by kind, each kind in display order."""
    tenant = policy.tenant
    return {
        "thresholds": list(scoped(CategoryThreshold, tenant).filter(policy=policy)),
        "keyword_sets": list(
            scoped(KeywordRuleSet, tenant).filter(policy=policy).defer("terms", "allow_list")
        ),
        "embedding_sets": list(scoped(EmbeddingRuleSet, tenant).filter(policy=policy)),
        "concepts": list(
            scoped(ClipConcept, tenant).filter(policy=policy).prefetch_related("images")
        ),
        "conditions": list(
            scoped(ConditionalRule, tenant)
            .filter(policy=policy)
            .select_related("keyword_set", "embedding_set")
        ),
    }


def keyword_terms_search(
    *, keyword_set: KeywordRuleSet, query: str, limit: int = 200
) -> tuple[list[str], int]:
    """Terms of the set containing `query` (case-insensitive): the first `limit`, and how many."""
    needle = query.casefold()
    found = [t for t in keyword_set.term_list() if needle in t.casefold()]
    return found[:limit], len(found)


def floor() -> dict:
    """The platform floor every tenant inherits."""
    return {
        "categories": list(FloorCategory.objects.all()),
        "keyword_sets": list(FloorKeywordSet.objects.defer("terms", "allow_list")),
    }


def floor_audit_list() -> QuerySet[AuditEvent]:
    """The platform's own events (floor changes): those of no tenant, newest first."""
    return AuditEvent.objects.filter(tenant__isnull=True).order_by("-created_at", "-id")


def audit_list(
    *,
    tenant,
    policy: Policy | None = None,
    actor: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """The tenant's audit events, newest first, filtered by policy, actor name and date range."""
    events = scoped(AuditEvent, tenant)
    if policy is not None:
        events = events.filter(policy=policy)
    if actor:
        events = events.filter(actor_name=actor)
    if since:
        events = events.filter(created_at__date__gte=since)
    if until:
        events = events.filter(created_at__date__lte=until)
    return events.order_by("-created_at", "-id")


def audit_actor_names(*, tenant) -> list[str]:
    """Everyone who appears in the tenant's audit log, for the filter."""
    return list(
        scoped(AuditEvent, tenant)
        .order_by("actor_name")
        .values_list("actor_name", flat=True)
        .distinct()
    )


def decision_sampling(policy: Policy) -> DecisionSampling:
    """The policy's production sampling rules; the defaults (unsaved) before anyone saves them."""
    found = scoped(DecisionSampling, policy.tenant).filter(policy=policy).first()
    return found or DecisionSampling(tenant=policy.tenant, policy=policy)
