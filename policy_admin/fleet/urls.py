"""Fleet routes: the bundle API for inference servers, tokens API, token pages, well-known keys."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from policy_admin.fleet import views
from policy_admin.fleet.api import bundles
from policy_admin.fleet.api.tokens import FleetTokenViewSet

router = SimpleRouter()
router.register("fleet-tokens", FleetTokenViewSet, basename="api-fleet-token")

urlpatterns = [
    path("api/v1/fleet/", include("policy_admin.fleet.api.urls")),
    path("api/v1/tenants/<slug:tenant>/", include(router.urls)),
    path(
        ".well-known/moderation-bundle-keys.json",
        bundles.public_keys,
        name="well-known-bundle-keys",
    ),
    path("t/<slug:tenant>/fleet-tokens/", views.FleetTokenListView.as_view(), name="fleet-tokens"),
    path(
        "t/<slug:tenant>/fleet-tokens/<int:pk>/revoke/",
        views.FleetTokenRevokeView.as_view(),
        name="fleet-token-revoke",
    ),
]
