"""Authoring pages: the dashboard, policies and their rules, versions, audit, the floor."""

from django.urls import include, path

from policy_admin.views import (
    audit,
    concepts,
    conditions,
    dashboard,
    embeddings,
    floor,
    keywords,
    policies,
    policy_yaml,
    publishing,
    sampling,
    thresholds,
)

keyword_patterns = [
    path("new/", keywords.KeywordSetCreateView.as_view(), name="keyword-set-create"),
    path("<int:pk>/", keywords.KeywordSetView.as_view(), name="keyword-set"),
    path("<int:pk>/import/", keywords.KeywordTermsImportView.as_view(), name="keyword-import"),
    path("<int:pk>/search/", keywords.KeywordTermsSearchView.as_view(), name="keyword-search"),
    path("<int:pk>/delete/", keywords.KeywordSetDeleteView.as_view(), name="keyword-set-delete"),
    path(
        "<int:pk>/robustness/", keywords.KeywordRobustnessView.as_view(), name="keyword-robustness"
    ),
]

embedding_patterns = [
    path("new/", embeddings.EmbeddingSetFormView.as_view(), name="embedding-set-create"),
    path("<int:pk>/", embeddings.EmbeddingSetFormView.as_view(), name="embedding-set"),
    path(
        "<int:pk>/delete/", embeddings.EmbeddingSetDeleteView.as_view(), name="embedding-set-delete"
    ),
]

condition_patterns = [
    path("new/", conditions.ConditionFormView.as_view(), name="condition-create"),
    path("<int:pk>/", conditions.ConditionFormView.as_view(), name="condition"),
    path("<int:pk>/delete/", conditions.ConditionDeleteView.as_view(), name="condition-delete"),
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
    path("<slug:slug>/conditions/", include(condition_patterns)),
    path("<slug:slug>/import/", policy_yaml.PolicyImportView.as_view(), name="policy-import"),
    path("<slug:slug>/export.yaml", policy_yaml.PolicyExportView.as_view(), name="policy-export"),
    path("<slug:slug>/versions/", publishing.VersionsView.as_view(), name="policy-versions"),
    path("<slug:slug>/sampling/", sampling.SamplingView.as_view(), name="policy-sampling"),
    path("<slug:slug>/approve/", publishing.ApproveView.as_view(), name="policy-approve"),
    path(
        "<slug:slug>/versions/<int:number>/changes/",
        publishing.VersionDiffView.as_view(),
        name="policy-version-changes",
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
]

tenant_patterns = [
    path("", dashboard.DashboardView.as_view(), name="tenant-dashboard"),
    path("policies/", include(policy_patterns)),
    path("audit/", audit.TenantAuditView.as_view(), name="tenant-audit"),
    path(
        "publishing-settings/",
        publishing.PublishingSettingsView.as_view(),
        name="publishing-settings",
    ),
]

platform_patterns = [
    path("floor/", floor.FloorView.as_view(), name="platform-floor"),
    path(
        "floor/keywords/new/", floor.FloorKeywordSetView.as_view(), name="floor-keyword-set-create"
    ),
    path("floor/keywords/<int:pk>/", floor.FloorKeywordSetView.as_view(), name="floor-keyword-set"),
]

urlpatterns = [
    path("t/<slug:tenant>/", include(tenant_patterns)),
    path("platform/", include(platform_patterns)),
]
