"""The one API router, versioned under /api/v1/.

`router` holds top-level resources; `tenant_router` holds resources owned by a
tenant and is mounted under /api/v1/tenants/<tenant>/, so every one of its
viewsets receives the tenant slug and scopes by it (tenants.scoping).
"""

from rest_framework.routers import DefaultRouter, SimpleRouter

from moderation.api.views import LiveTestViewSet
from tenants.api.views import MemberViewSet, TenantViewSet

router = DefaultRouter()
router.register("tenants", TenantViewSet, basename="tenant")

tenant_router = SimpleRouter()
tenant_router.register("members", MemberViewSet, basename="member")
tenant_router.register("live-tests", LiveTestViewSet, basename="live-test")
