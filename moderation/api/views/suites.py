"""API: sample sets (import, labels) and suite runs (start, cancel, results, compare)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from kernel.http import int_or_404
from kernel.uploads import ImageUpload
from moderation.api.serializers import suites as s
from moderation.api.views.common import RunVersionMixin
from moderation.models import Sample, SampleSet, TestRun
from moderation.selectors import compare
from moderation.selectors import runs as selectors
from moderation.services import lifecycle, samples, suites
from policy_admin.models import Policy
from tenants.scoping import TenantAPIMixin, scoped


class SampleSetViewSet(TenantAPIMixin, viewsets.ModelViewSet):
    """The tenant's sample sets; import archives into one and relabel its samples."""

    model = SampleSet
    serializer_class = s.SampleSetSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SampleSet.objects.none()
        return selectors.sample_set_list(tenant=self.tenant)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = samples.sample_set_create(
            tenant=self.tenant,
            actor=self.request.user,
            name=data["name"],
            description=data.get("description", ""),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        samples.sample_set_update(
            sample_set=serializer.instance,
            name=data.get("name", serializer.instance.name),
            description=data.get("description", serializer.instance.description),
        )

    def perform_destroy(self, instance):
        samples.sample_set_delete(sample_set=instance)

    @extend_schema(request=s.SampleSetImportSerializer, responses={201: s.SampleImportSerializer})
    @action(detail=True, methods=["post"], url_path="import")
    def import_archive(self, request, *args, **kwargs):
        """Import a zip (or CSV/JSONL) of labelled samples; refused rows come back with reasons."""
        data = s.SampleSetImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["archive"]
        report = samples.sample_set_import(
            sample_set=self.get_object(),
            actor=request.user,
            file_name=upload.name,
            data=upload.read(),
        )
        return Response(s.SampleImportSerializer(report).data, status=status.HTTP_201_CREATED)


class SampleViewSet(
    TenantAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """A set's samples, filtered by tag and label; POST adds one; PATCH .../labels/ relabels."""

    model = Sample
    serializer_class = s.SampleSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def sample_set(self) -> SampleSet:
        return get_object_or_404(scoped(SampleSet, self.tenant), pk=self.kwargs["set_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Sample.objects.none()
        params = self.request.query_params
        return selectors.sample_list(
            sample_set=self.sample_set(), tag=params.get("tag", ""), label=params.get("label", "")
        )

    @extend_schema(request=s.SampleAddSerializer, responses={201: s.SampleSerializer})
    def create(self, request, *args, **kwargs):
        """Add one sample (prompt and/or image) with the importer's checks and dedup."""
        data = s.SampleAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        upload = fields.pop("image")
        sample = samples.sample_add(
            sample_set=self.sample_set(),
            image=ImageUpload.from_file(upload) if upload else None,
            **fields,
        )
        return Response(self.get_serializer(sample).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("tag", str, description="Only samples with this tag."),
            OpenApiParameter("label", str, description="Only this expected action or category."),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.SampleLabelsSerializer, responses=s.SampleSerializer)
    @action(detail=True, methods=["patch"])
    def labels(self, request, *args, **kwargs):
        """Change a sample's expected action, categories and tags."""
        data = s.SampleLabelsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sample = samples.sample_update_labels(sample=self.get_object(), **data.validated_data)
        return Response(s.SampleSerializer(sample, context=self.get_serializer_context()).data)


class SuiteRunViewSet(
    RunVersionMixin,
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Suite runs of a policy draft over a sample set, with progress, metrics and results."""

    model = TestRun
    serializer_class = s.SuiteRunSerializer

    def get_tenant_queryset(self):
        return TestRun.objects.filter(kind=TestRun.Kind.SUITE).select_related(
            "policy", "created_by"
        )

    def get_object(self):
        """The suite, queued again first if its worker went silent."""
        return lifecycle.run_reap(run=super().get_object())

    @extend_schema(request=s.SuiteStartSerializer, responses={202: s.SuiteRunSerializer})
    def create(self, request, *args, **kwargs):
        data = s.SuiteStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sample_set = get_object_or_404(
            scoped(SampleSet, self.tenant), pk=data.validated_data["sample_set"]
        )
        policy = get_object_or_404(scoped(Policy, self.tenant), slug=data.validated_data["policy"])
        run = suites.suite_start(
            sample_set=sample_set,
            policy=policy,
            actor=request.user,
            version=self.version(data.validated_data["version"]),
        )
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=s.SuiteRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        """Stop a queued or running suite; results so far are kept."""
        run = suites.suite_cancel(run=self.get_object())
        return Response(self.get_serializer(run).data)

    @extend_schema(
        parameters=[OpenApiParameter("show", str, enum=["fp", "fn", "right"])],
        responses=s.SampleResultSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def results(self, request, *args, **kwargs):
        """Per-sample results, optionally only false positives, false negatives or matches."""
        rows = selectors.suite_results(
            run=self.get_object(), show=request.query_params.get("show", "")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.SampleResultSerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "with",
                int,
                description="The suite to compare with; omitted for a draft suite: the newest "
                "finished suite of the policy's latest published version on the same set.",
            )
        ],
        responses=dict,
    )
    @action(detail=True, methods=["get"])
    def compare(self, request, *args, **kwargs):
        """The impact preview against another finished suite on the same set."""
        run = self.get_object()
        with_ = request.query_params.get("with")
        try:
            other = compare.suite_compare_with(
                run=run, other_id=int_or_404(with_) if with_ else None
            )
        except TestRun.DoesNotExist:
            raise NotFound(f"No suite run #{with_} here to compare with.") from None
        result = compare.suite_compare(before=other, after=run)
        return Response(
            {
                "changed": result.changed,
                "stricter": _grouped(result.stricter),
                "looser": _grouped(result.looser),
                "before": {"id": other.pk, "version_number": other.version_number},
                "deltas": result.deltas,
            }
        )


def _grouped(groups: dict) -> dict:
    return {k: [r.sample.external_id for r in v] for k, v in groups.items()}
