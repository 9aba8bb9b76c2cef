"""Moderation API routes under /api/v1/tenants/<tenant>/: live tests, samples, suites, quality,
review queues,
classifier trainings."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from moderation.api.views.classifiers import TrainingRunViewSet
from moderation.api.views.fleet import decisions_upload
from moderation.api.views.live import LiveTestViewSet
from moderation.api.views.quality import PolicyQualityViewSet
from moderation.api.views.review import ReviewClaimViewSet, ReviewLabelViewSet, ReviewQueueViewSet
from moderation.api.views.robustness import KeywordRobustnessViewSet
from moderation.api.views.suites import SampleSetViewSet, SampleViewSet, SuiteRunViewSet

router = SimpleRouter()
router.register("live-tests", LiveTestViewSet, basename="live-test")
router.register("sample-sets", SampleSetViewSet, basename="api-sample-set")
router.register(r"sample-sets/(?P<set_pk>\d+)/samples", SampleViewSet, basename="api-sample")
router.register("suites", SuiteRunViewSet, basename="api-suite")
router.register("review-queues", ReviewQueueViewSet, basename="api-review-queue")
router.register("review-claims", ReviewClaimViewSet, basename="api-review-claim")
router.register("review-labels", ReviewLabelViewSet, basename="api-review-label")
router.register(
    r"policies/(?P<policy>[a-z0-9-]+)/keyword-sets/(?P<set_pk>\d+)/robustness",
    KeywordRobustnessViewSet,
    basename="keyword-robustness",
)
router.register(
    r"classifiers/(?P<classifier_pk>\d+)/trainings", TrainingRunViewSet, basename="api-training"
)
router.register(r"policies/(?P<policy>[a-z0-9-]+)", PolicyQualityViewSet, basename="policy-quality")

urlpatterns = [
    path("tenants/<slug:tenant>/", include(router.urls)),
    # The fleet's side, like /api/v1/fleet/…/bundle: a fleet token names the tenant.
    path(
        "fleet/policies/<slug:policy>/decisions",
        decisions_upload,
        name="fleet-decisions",
    ),
]
