"""Authoring API routes under /api/v1/tenants/<tenant>/.

Every viewset receives the tenant slug and scopes by it (tenants.scoping). A
policy's rules nest under policies/<policy>/, resolved through the tenant.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from policy_admin.api.views.audit import AuditEventViewSet, PolicyAuditEventViewSet
from policy_admin.api.views.classifiers import ClassifierViewSet
from policy_admin.api.views.concepts import ConceptViewSet
from policy_admin.api.views.conditions import ConditionViewSet
from policy_admin.api.views.keywords import KeywordSetViewSet
from policy_admin.api.views.policies import PolicyViewSet
from policy_admin.api.views.publishing import (
    ChannelViewSet,
    PublishingSettingsView,
    VersionViewSet,
)
from policy_admin.api.views.rules import EmbeddingSetViewSet, ThresholdViewSet

router = SimpleRouter()
router.register("policies", PolicyViewSet, basename="api-policy")
router.register("audit", AuditEventViewSet, basename="audit-event")

_POLICY = r"policies/(?P<policy>[a-z0-9-]+)"
router.register(f"{_POLICY}/thresholds", ThresholdViewSet, basename="policy-threshold")
router.register(f"{_POLICY}/keyword-sets", KeywordSetViewSet, basename="policy-keyword-set")
router.register(f"{_POLICY}/embedding-sets", EmbeddingSetViewSet, basename="policy-embedding-set")
router.register(f"{_POLICY}/concepts", ConceptViewSet, basename="policy-concept")
router.register(f"{_POLICY}/conditions", ConditionViewSet, basename="policy-condition")
router.register(f"{_POLICY}/classifiers", ClassifierViewSet, basename="policy-classifier")
router.register(f"{_POLICY}/audit", PolicyAuditEventViewSet, basename="policy-audit-event")
router.register(f"{_POLICY}/versions", VersionViewSet, basename="policy-version")
router.register(f"{_POLICY}/channels", ChannelViewSet, basename="policy-channel")

urlpatterns = [
    path("tenants/<slug:tenant>/", include(router.urls)),
    path(
        "tenants/<slug:tenant>/publishing-settings/",
        PublishingSettingsView.as_view(),
        name="api-publishing-settings",
    ),
]
