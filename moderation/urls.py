"""Moderation pages under /t/<tenant>/: live tests, samples, suites, quality, alerts, review,
shadow experiments and classifiers."""

from django.urls import include, path

from moderation.views import (
    alerts,
    classifiers,
    live,
    quality,
    review,
    reviewing,
    robustness,
    samples,
    shadow,
    suites,
)

live_test_patterns = [
    path("", live.LiveConsoleView.as_view(), name="live-console"),
    path("<int:pk>/", live.LiveRunView.as_view(), name="live-run"),
    path("<int:pk>/add-to-samples/", live.LiveRunSampleView.as_view(), name="live-run-sample"),
    path(
        "<int:pk>/<str:action>/",
        live.LiveRunView.as_view(http_method_names=["post"]),
        name="live-run-action",
    ),
]

policy_patterns = [
    path("live/", include(live_test_patterns)),
    path("quality/", quality.QualityView.as_view(), name="policy-quality"),
    path("quality/drift/", quality.DriftView.as_view(), name="policy-drift"),
    path("channels/<slug:channel>/shadow/", shadow.ShadowView.as_view(), name="channel-shadow"),
    path(
        "channels/<slug:channel>/shadow/flips/<int:pk>/",
        shadow.ShadowFlipView.as_view(),
        name="channel-shadow-flip",
    ),
    path(
        "keywords/<int:pk>/robustness/run/",
        robustness.KeywordRobustnessStartView.as_view(),
        name="keyword-robustness-start",
    ),
    path("classifiers/", classifiers.ClassifierListView.as_view(), name="classifier-list"),
    path("classifiers/<int:pk>/", classifiers.ClassifierView.as_view(), name="classifier"),
    path(
        "classifiers/<int:pk>/train/",
        classifiers.ClassifierTrainView.as_view(),
        name="classifier-train",
    ),
    path(
        "classifiers/<int:pk>/use/", classifiers.ClassifierUseView.as_view(), name="classifier-use"
    ),
    path(
        "classifiers/<int:pk>/send-issues/",
        classifiers.ClassifierSendIssuesView.as_view(),
        name="classifier-send-issues",
    ),
]

sample_patterns = [
    path("", samples.SampleSetListView.as_view(), name="sample-set-list"),
    path("<int:pk>/", samples.SampleSetView.as_view(), name="sample-set"),
    path("<int:pk>/import/", samples.SampleSetImportView.as_view(), name="sample-set-import"),
    path("<int:pk>/add/", samples.SampleAddView.as_view(), name="sample-add"),
    path(
        "<int:pk>/imports/<int:import_pk>/errors.csv",
        samples.SampleImportErrorsView.as_view(),
        name="sample-import-errors",
    ),
    path("<int:pk>/delete/", samples.SampleSetDeleteView.as_view(), name="sample-set-delete"),
    path(
        "<int:pk>/samples/<int:sample_pk>/labels/",
        samples.SampleLabelView.as_view(),
        name="sample-labels",
    ),
    path("<int:pk>/suites/", suites.SuiteStartView.as_view(), name="suite-start"),
]

suite_patterns = [
    path("<int:pk>/", suites.SuiteRunView.as_view(), name="suite-run"),
    path("<int:pk>/cancel/", suites.SuiteCancelView.as_view(), name="suite-cancel"),
    path("<int:pk>/compare/", suites.SuiteCompareView.as_view(), name="suite-compare"),
    path("<int:pk>/tune/", suites.SuiteTuneView.as_view(), name="suite-tune"),
    path("<int:pk>/export.<str:format>", suites.SuiteExportView.as_view(), name="suite-export"),
    path(
        "<int:pk>/report/",
        suites.SuiteExportView.as_view(),
        {"format": "html"},
        name="suite-report",
    ),
    path(
        "<int:pk>/samples/<int:result_pk>/", suites.SuiteSampleView.as_view(), name="suite-sample"
    ),
]

queue_patterns = [
    path("", review.ReviewQueueView.as_view(), name="review-queue"),
    path("delete/", review.ReviewQueueDeleteView.as_view(), name="review-queue-delete"),
    path("export/", review.ReviewExportView.as_view(), name="review-export"),
    path("label/", reviewing.ReviewerPageView.as_view(), name="review-label"),
    path("claims/<int:pk>/answer/", reviewing.ReviewAnswerView.as_view(), name="review-answer"),
    path("claims/<int:pk>/skip/", reviewing.ReviewSkipView.as_view(), name="review-skip"),
    *(
        path(
            f"labels/<int:pk>/{change}/",
            reviewing.ReviewLabelChangeView.as_view(),
            {"change": change},
            name=f"review-{change}",
        )
        for change in ("undo", "relabel")
    ),
]

review_patterns = [
    path("", review.ReviewQueueListView.as_view(), name="review-queues"),
    path("routing/", review.RoutingRulesView.as_view(), name="review-routing"),
    *(
        path(
            f"routing/<int:pk>/{change}/",
            review.RoutingRuleChangeView.as_view(),
            {"change": change},
            name=f"review-routing-{change}",
        )
        for change in ("up", "down", "delete")
    ),
    path(
        "items/<int:pk>/thumbnail.jpg",
        reviewing.ReviewThumbnailView.as_view(),
        name="review-thumbnail",
    ),
    path("<slug:queue>/", include(queue_patterns)),
]

tenant_patterns = [
    path("policies/<slug:slug>/", include(policy_patterns)),
    path("samples/", include(sample_patterns)),
    path("suites/", include(suite_patterns)),
    path("review/", include(review_patterns)),
    path("alerts/", alerts.AlertListView.as_view(), name="alert-list"),
    path("alerts/new/", alerts.AlertRuleView.as_view(), name="alert-create"),
    path("alerts/<int:pk>/", alerts.AlertRuleView.as_view(), name="alert-rule"),
    path("alerts/<int:pk>/delete/", alerts.AlertRuleDeleteView.as_view(), name="alert-rule-delete"),
]

urlpatterns = [path("t/<slug:tenant>/", include(tenant_patterns))]
