"""Fleet URLs, mounted under /api/v1/fleet/ (plus the well-known keys document)."""

from django.urls import path

from policy_admin.fleet.api import bundles as views

urlpatterns = [
    path(
        "policies/<slug:policy>/channels/<slug:channel>/bundle",
        views.channel_bundle,
        name="fleet-channel-bundle",
    ),
    path(
        "policies/<slug:policy>/versions/<int:number>/bundle",
        views.version_bundle,
        name="fleet-version-bundle",
    ),
    path("keys", views.public_keys, name="fleet-keys"),
    path("status", views.status_report, name="fleet-status"),
]
