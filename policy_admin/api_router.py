"""The one API router, versioned under /api/v1/.

`router` holds top-level resources; `tenant_router` holds resources owned by a
tenant and is mounted under /api/v1/tenants/<tenant>/, so every one of its
viewsets receives the tenant slug and scopes by it (tenants.scoping). A
policy's rules nest under policies/<policy>/, resolved through the tenant.
"""

from rest_framework.routers import DefaultRouter, SimpleRouter

from moderation.api.quality_views import PolicyQualityViewSet
from moderation.api.suite_views import SampleSetViewSet, SampleViewSet, SuiteRunViewSet
from moderation.api.views import LiveTestViewSet
from policy_admin.api.views.audit import AuditEventViewSet, PolicyAuditEventViewSet
from policy_admin.api.views.concepts import ConceptViewSet
from policy_admin.api.views.fleet_tokens import FleetTokenViewSet
from policy_admin.api.views.keywords import KeywordSetViewSet
from policy_admin.api.views.policies import PolicyViewSet
from policy_admin.api.views.publishing import ChannelViewSet, VersionViewSet
from policy_admin.api.views.rules import EmbeddingSetViewSet, ThresholdViewSet
from tenants.api.views import MemberViewSet, TenantViewSet

router = DefaultRouter()
router.register("tenants", TenantViewSet, basename="tenant")

tenant_router = SimpleRouter()
tenant_router.register("members", MemberViewSet, basename="member")
tenant_router.register("live-tests", LiveTestViewSet, basename="live-test")
tenant_router.register("policies", PolicyViewSet, basename="api-policy")
tenant_router.register("audit", AuditEventViewSet, basename="audit-event")
tenant_router.register("sample-sets", SampleSetViewSet, basename="api-sample-set")
tenant_router.register(r"sample-sets/(?P<set_pk>\d+)/samples", SampleViewSet, basename="api-sample")
tenant_router.register("suites", SuiteRunViewSet, basename="api-suite")

tenant_router.register("fleet-tokens", FleetTokenViewSet, basename="fleet-token")

_POLICY = r"policies/(?P<policy>[a-z0-9-]+)"
tenant_router.register(f"{_POLICY}/thresholds", ThresholdViewSet, basename="policy-threshold")
tenant_router.register(f"{_POLICY}/keyword-sets", KeywordSetViewSet, basename="policy-keyword-set")
tenant_router.register(
    f"{_POLICY}/embedding-sets", EmbeddingSetViewSet, basename="policy-embedding-set"
)
tenant_router.register(f"{_POLICY}/concepts", ConceptViewSet, basename="policy-concept")
tenant_router.register(f"{_POLICY}/audit", PolicyAuditEventViewSet, basename="policy-audit-event")
tenant_router.register(f"{_POLICY}/versions", VersionViewSet, basename="policy-version")
tenant_router.register(f"{_POLICY}/channels", ChannelViewSet, basename="policy-channel")
tenant_router.register(_POLICY, PolicyQualityViewSet, basename="policy-quality")
