"""URLs: pages under /t/<tenant>/, the API under /api/v1/, the admin, the login."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from moderation import views as moderation_views
from policy_admin import views_yaml
from policy_admin.api_router import router, tenant_router
from tenants import views as tenant_views

api_patterns = [
    path("", include(router.urls)),
    path("tenants/<slug:tenant>/", include(tenant_router.urls)),
    path("auth/token/", obtain_auth_token, name="api-token-obtain"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

tenant_patterns = [
    path("", tenant_views.DashboardView.as_view(), name="tenant-dashboard"),
    path("members/", tenant_views.MemberListView.as_view(), name="tenant-members"),
    path("members/<int:pk>/role/", tenant_views.MemberRoleView.as_view(), name="member-role"),
    path("members/<int:pk>/remove/", tenant_views.MemberRemoveView.as_view(), name="member-remove"),
]

live_test_patterns = [
    path("", moderation_views.LiveConsoleView.as_view(), name="live-console"),
    path("<int:pk>/", moderation_views.LiveRunView.as_view(), name="live-run"),
    path(
        "<int:pk>/<str:action>/",
        moderation_views.LiveRunView.as_view(http_method_names=["post"]),
        name="live-run-action",
    ),
]

# Policy as code, under /t/<tenant>/policies/<policy>/ (beside the editor's policy_patterns).
policy_yaml_patterns = [
    path("import/", views_yaml.PolicyImportView.as_view(), name="policy-import"),
    path("export.yaml", views_yaml.PolicyExportView.as_view(), name="policy-export"),
]

urlpatterns = [
    path("", tenant_views.TenantPickerView.as_view(), name="tenant-picker"),
    path("t/<slug:tenant>/", include(tenant_patterns)),
    path("t/<slug:tenant>/policies/<slug:slug>/live/", include(live_test_patterns)),
    path("t/<slug:tenant>/policies/<slug:policy>/", include(policy_yaml_patterns)),
    path("account/api-token/", tenant_views.ApiTokenView.as_view(), name="api-token"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include(api_patterns)),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:  # production serves media from its storage, not from Django
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
