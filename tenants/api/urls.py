"""Tenant API routes: /api/v1/tenants/, each tenant's members and invitations, accepting an
invitation, and the token login."""

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter, SimpleRouter

from tenants.api.views.invitations import InvitationAcceptView, InvitationViewSet
from tenants.api.views.tenants import MemberViewSet, TenantViewSet

router = DefaultRouter()
router.register("tenants", TenantViewSet, basename="tenant")

tenant_router = SimpleRouter()
tenant_router.register("members", MemberViewSet, basename="member")
tenant_router.register("invitations", InvitationViewSet, basename="invitation")

urlpatterns = [
    path("", include(router.urls)),
    path("tenants/<slug:tenant>/", include(tenant_router.urls)),
    path("invitations/accept/", InvitationAcceptView.as_view(), name="invitation-accept-api"),
    path("auth/token/", obtain_auth_token, name="api-token-obtain"),
]
