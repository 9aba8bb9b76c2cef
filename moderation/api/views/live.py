"""API: start live tests of a policy draft and read their results."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from kernel.uploads import ImageUpload
from moderation.api.serializers.live import (
    LiveTestSampleSerializer,
    LiveTestStartSerializer,
    TestRunSerializer,
)
from moderation.api.serializers.suites import SampleSerializer
from moderation.api.views.common import RunVersionMixin
from moderation.models import SampleSet, TestRun
from moderation.selectors import runs as selectors
from moderation.services import lifecycle, runs, samples
from policy_admin.models import Policy
from tenants.scoping import TenantAPIMixin, scoped


class LiveTestViewSet(
    RunVersionMixin,
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Live tests: judge a prompt and/or images with a policy's draft on a GPU worker."""

    model = TestRun
    serializer_class = TestRunSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_tenant_queryset(self):
        return (
            TestRun.objects.filter(kind=TestRun.Kind.LIVE)
            .select_related("policy", "created_by")
            .prefetch_related("images")
            .order_by("-created_at", "-id")
        )

    @extend_schema(
        parameters=[OpenApiParameter("policy", str, description="Only this policy's tests.")]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        slug = self.request.query_params.get("policy")
        return queryset.filter(policy__slug=slug) if slug else queryset

    def get_object(self):
        """The test, failed first if its worker went silent."""
        return lifecycle.run_reap(run=super().get_object())

    @extend_schema(request=LiveTestStartSerializer, responses={202: TestRunSerializer})
    def create(self, request, *args, **kwargs):
        data = LiveTestStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = get_object_or_404(scoped(Policy, self.tenant), slug=data.validated_data["policy"])
        uploads = [ImageUpload.from_file(f) for f in data.validated_data["images"]]
        run = runs.live_test_start(
            policy=policy,
            actor=request.user,
            prompt=data.validated_data["prompt"],
            uploads=uploads,
            version=self.version(data.validated_data["version"]),
        )
        return Response(self._out(run), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: TestRunSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, *args, **kwargs):
        """Queue a failed test again with the same inputs."""
        run = runs.run_retry(run=self.get_object(), actor=request.user)
        return Response(self._out(run), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: TestRunSerializer})
    @action(detail=True, methods=["post"])
    def rerun(self, request, *args, **kwargs):
        """Test the current draft with this test's inputs, to see what a change did."""
        run = runs.run_rerun(run=self.get_object(), actor=request.user)
        return Response(self._out(run), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=LiveTestSampleSerializer, responses={201: SampleSerializer})
    @action(detail=True, methods=["post"], url_path="add-sample")
    def add_sample(self, request, *args, **kwargs):
        """Copy one judged input (prompt and image) of this test into a sample set, labelled."""
        data = LiveTestSampleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        sample_set = get_object_or_404(scoped(SampleSet, self.tenant), pk=fields.pop("sample_set"))
        sample = samples.sample_add_from_run(
            run=self.get_object(), position=fields.pop("input"), sample_set=sample_set, **fields
        )
        context = self.get_serializer_context()
        return Response(SampleSerializer(sample, context=context).data, status=201)

    def _out(self, run):
        run = selectors.run_list(tenant=self.tenant).get(pk=run.pk)
        return TestRunSerializer(run, context=self.get_serializer_context()).data
