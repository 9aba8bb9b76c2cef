"""Moderation API routes under /api/v1/tenants/<tenant>/: live tests, samples, suites, quality,
classifier trainings."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from moderation.api.views.classifiers import TrainingRunViewSet
from moderation.api.views.live import LiveTestViewSet
from moderation.api.views.quality import PolicyQualityViewSet
from moderation.api.views.suites import SampleSetViewSet, SampleViewSet, SuiteRunViewSet

router = SimpleRouter()
router.register("live-tests", LiveTestViewSet, basename="live-test")
router.register("sample-sets", SampleSetViewSet, basename="api-sample-set")
router.register(r"sample-sets/(?P<set_pk>\d+)/samples", SampleViewSet, basename="api-sample")
router.register("suites", SuiteRunViewSet, basename="api-suite")
router.register(
    r"classifiers/(?P<classifier_pk>\d+)/trainings", TrainingRunViewSet, basename="api-training"
)
router.register(r"policies/(?P<policy>[a-z0-9-]+)", PolicyQualityViewSet, basename="policy-quality")

urlpatterns = [path("tenants/<slug:tenant>/", include(router.urls))]
