"""URLs: pages under /t/<tenant>/, the API under /api/v1/, the admin, the login."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from moderation import views as moderation_views
from moderation import views_quality, views_samples, views_suites
from moderation.alerts import views as alert_views
from policy_admin import health, metrics, views_yaml
from policy_admin.api.views.publishing import PublishingSettingsView as PublishingSettingsAPIView
from policy_admin.api_router import router, tenant_router
from policy_admin.fleet_api import views as fleet_views
from policy_admin.views import (
    audit,
    concepts,
    embeddings,
    fleet_tokens,
    floor,
    keywords,
    policies,
    publishing,
    thresholds,
)
from tenants import views as tenant_views

api_patterns = [
    path("fleet/", include("policy_admin.fleet_api.urls")),
    path("", include(router.urls)),
    path("tenants/<slug:tenant>/", include(tenant_router.urls)),
    path(
        "tenants/<slug:tenant>/publishing-settings/",
        PublishingSettingsAPIView.as_view(),
        name="api-publishing-settings",
    ),
    path("auth/token/", obtain_auth_token, name="api-token-obtain"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

live_test_patterns = [
    path("", moderation_views.LiveConsoleView.as_view(), name="live-console"),
    path("<int:pk>/", moderation_views.LiveRunView.as_view(), name="live-run"),
    path(
        "<int:pk>/add-to-samples/",
        moderation_views.LiveRunSampleView.as_view(),
        name="live-run-sample",
    ),
    path(
        "<int:pk>/<str:action>/",
        moderation_views.LiveRunView.as_view(http_method_names=["post"]),
        name="live-run-action",
    ),
]

keyword_patterns = [
    path("new/", keywords.KeywordSetCreateView.as_view(), name="keyword-set-create"),
    path("<int:pk>/", keywords.KeywordSetView.as_view(), name="keyword-set"),
    path("<int:pk>/import/", keywords.KeywordTermsImportView.as_view(), name="keyword-import"),
    path("<int:pk>/search/", keywords.KeywordTermsSearchView.as_view(), name="keyword-search"),
    path("<int:pk>/delete/", keywords.KeywordSetDeleteView.as_view(), name="keyword-set-delete"),
]

embedding_patterns = [
    path("new/", embeddings.EmbeddingSetFormView.as_view(), name="embedding-set-create"),
    path("<int:pk>/", embeddings.EmbeddingSetFormView.as_view(), name="embedding-set"),
    path(
        "<int:pk>/delete/", embeddings.EmbeddingSetDeleteView.as_view(), name="embedding-set-delete"
    ),
]

concept_patterns = [
    path("new/", concepts.ConceptFormView.as_view(), name="concept-create"),
    path("<int:pk>/", concepts.ConceptView.as_view(), name="concept"),
    path("<int:pk>/images/", concepts.ConceptImagesUploadView.as_view(), name="concept-images"),
    path(
        "<int:pk>/images/<int:image_pk>/positive/",
        concepts.ConceptImagePositiveView.as_view(),
        name="concept-image-positive",
    ),
    path(
        "<int:pk>/images/<int:image_pk>/remove/",
        concepts.ConceptImageRemoveView.as_view(),
        name="concept-image-remove",
    ),
    path("<int:pk>/delete/", concepts.ConceptDeleteView.as_view(), name="concept-delete"),
]

policy_patterns = [
    path("", policies.PolicyListView.as_view(), name="policy-list"),
    path("<slug:slug>/", policies.PolicyEditorView.as_view(), name="policy-editor"),
    path("<slug:slug>/delete/", policies.PolicyDeleteView.as_view(), name="policy-delete"),
    path("<slug:slug>/audit/", audit.PolicyAuditView.as_view(), name="policy-audit"),
    path("<slug:slug>/thresholds/", thresholds.ThresholdSaveView.as_view(), name="threshold-save"),
    path(
        "<slug:slug>/thresholds/<int:pk>/reset/",
        thresholds.ThresholdResetView.as_view(),
        name="threshold-reset",
    ),
    path("<slug:slug>/keywords/", include(keyword_patterns)),
    path("<slug:slug>/embeddings/", include(embedding_patterns)),
    path("<slug:slug>/concepts/", include(concept_patterns)),
    path("<slug:slug>/live/", include(live_test_patterns)),
    path("<slug:slug>/import/", views_yaml.PolicyImportView.as_view(), name="policy-import"),
    path("<slug:slug>/versions/", publishing.VersionsView.as_view(), name="policy-versions"),
    path("<slug:slug>/approve/", publishing.ApproveView.as_view(), name="policy-approve"),
    path(
        "<slug:slug>/versions/<int:number>/changes/",
        publishing.VersionDiffView.as_view(),
        name="policy-version-diff",
    ),
    path(
        "<slug:slug>/channels/move/",
        publishing.ChannelMoveView.as_view(),
        name="policy-channel-move",
    ),
    path(
        "<slug:slug>/channels/<slug:channel>/",
        publishing.ChannelView.as_view(),
        name="policy-channel",
    ),
    path("<slug:slug>/export.yaml", views_yaml.PolicyExportView.as_view(), name="policy-export"),
    path("<slug:slug>/quality/", views_quality.QualityView.as_view(), name="policy-quality"),
    path("<slug:slug>/quality/drift/", views_quality.DriftView.as_view(), name="policy-drift"),
]

platform_patterns = [
    path("floor/", floor.FloorView.as_view(), name="platform-floor"),
    path(
        "floor/keywords/new/", floor.FloorKeywordSetView.as_view(), name="floor-keyword-set-create"
    ),
    path("floor/keywords/<int:pk>/", floor.FloorKeywordSetView.as_view(), name="floor-keyword-set"),
]

sample_patterns = [
    path("", views_samples.SampleSetListView.as_view(), name="sample-set-list"),
    path("<int:pk>/", views_samples.SampleSetView.as_view(), name="sample-set"),
    path("<int:pk>/import/", views_samples.SampleSetImportView.as_view(), name="sample-set-import"),
    path("<int:pk>/add/", views_samples.SampleAddView.as_view(), name="sample-add"),
    path(
        "<int:pk>/imports/<int:import_pk>/errors.csv",
        views_samples.SampleImportErrorsView.as_view(),
        name="sample-import-errors",
    ),
    path("<int:pk>/delete/", views_samples.SampleSetDeleteView.as_view(), name="sample-set-delete"),
    path(
        "<int:pk>/samples/<int:sample_pk>/labels/",
        views_samples.SampleLabelView.as_view(),
        name="sample-labels",
    ),
    path("<int:pk>/suites/", views_suites.SuiteStartView.as_view(), name="suite-start"),
]

suite_patterns = [
    path("<int:pk>/", views_suites.SuiteRunView.as_view(), name="suite-run"),
    path("<int:pk>/cancel/", views_suites.SuiteCancelView.as_view(), name="suite-cancel"),
    path("<int:pk>/compare/", views_suites.SuiteCompareView.as_view(), name="suite-compare"),
    path("<int:pk>/tune/", views_suites.SuiteTuneView.as_view(), name="suite-tune"),
    path(
        "<int:pk>/export.<str:format>",
        views_suites.SuiteExportView.as_view(),
        name="suite-export",
    ),
    path(
        "<int:pk>/report/",
        views_suites.SuiteExportView.as_view(),
        {"format": "html"},
        name="suite-report",
    ),
    path(
        "<int:pk>/samples/<int:result_pk>/",
        views_suites.SuiteSampleView.as_view(),
        name="suite-sample",
    ),
]

tenant_patterns = [
    path("", tenant_views.DashboardView.as_view(), name="tenant-dashboard"),
    path("members/", tenant_views.MemberListView.as_view(), name="tenant-members"),
    path("members/<int:pk>/role/", tenant_views.MemberRoleView.as_view(), name="member-role"),
    path("members/<int:pk>/remove/", tenant_views.MemberRemoveView.as_view(), name="member-remove"),
    path("policies/", include(policy_patterns)),
    path("audit/", audit.TenantAuditView.as_view(), name="tenant-audit"),
    path("alerts/", alert_views.AlertListView.as_view(), name="alert-list"),
    path("alerts/new/", alert_views.AlertRuleView.as_view(), name="alert-create"),
    path("alerts/<int:pk>/", alert_views.AlertRuleView.as_view(), name="alert-rule"),
    path("samples/", include(sample_patterns)),
    path("suites/", include(suite_patterns)),
    path("fleet-tokens/", fleet_tokens.FleetTokenListView.as_view(), name="fleet-tokens"),
    path(
        "publishing-settings/",
        fleet_tokens.PublishingSettingsView.as_view(),
        name="publishing-settings",
    ),
    path(
        "fleet-tokens/<int:pk>/revoke/",
        fleet_tokens.FleetTokenRevokeView.as_view(),
        name="fleet-token-revoke",
    ),
]


urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("", tenant_views.TenantPickerView.as_view(), name="tenant-picker"),
    path("t/<slug:tenant>/", include(tenant_patterns)),
    path("account/api-token/", tenant_views.ApiTokenView.as_view(), name="api-token"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include(api_patterns)),
    path(
        ".well-known/moderation-bundle-keys.json",
        fleet_views.public_keys,
        name="well-known-bundle-keys",
    ),
    path("platform/", include(platform_patterns)),
    path("admin/", admin.site.urls),
]

# Uploaded example images, in development only (production serves MEDIA_ROOT itself).
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
