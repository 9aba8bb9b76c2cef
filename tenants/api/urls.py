"""Tenant API routes: /api/v1/tenants/ and each tenant's members, plus the token login."""

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter, SimpleRouter

from tenants.api.views.tenants import MemberViewSet, TenantViewSet

router = DefaultRouter()
router.register("tenants", TenantViewSet, basename="tenant")

tenant_router = SimpleRouter()
tenant_router.register("members", MemberViewSet, basename="member")

urlpatterns = [
    path("", include(router.urls)),
    path("tenants/<slug:tenant>/", include(tenant_router.urls)),
    path("auth/token/", obtain_auth_token, name="api-token-obtain"),
]
