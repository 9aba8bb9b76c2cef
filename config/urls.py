"""The project's URLs: each app's pages and API, plus health, metrics, the schema and the admin."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("", include("tenants.urls")),
    path("", include("policy_admin.urls")),
    path("", include("policy_admin.fleet.urls")),
    path("", include("moderation.urls")),
    path("api/v1/", include("tenants.api.urls")),
    path("api/v1/", include("policy_admin.api.urls")),
    path("api/v1/", include("moderation.api.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

# Uploaded example images, in development only (production serves MEDIA_ROOT itself).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
