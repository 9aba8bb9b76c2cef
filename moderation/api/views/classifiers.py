"""API: trainings of a custom classifier (start, list, progress), under the tenant."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from moderation.api.serializers.classifiers import TrainingRunSerializer, TrainingStartSerializer
from moderation.models import SampleSet, TrainingRun
from moderation.services import classifiers as service
from policy_admin.models import CustomClassifier
from tenants.scoping import TenantAPIMixin, scoped


class TrainingRunViewSet(
    TenantAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """A classifier's trainings, newest first; POST trains it on one of the tenant's sample sets."""

    model = TrainingRun
    serializer_class = TrainingRunSerializer
    lookup_value_regex = r"\d+"

    def classifier(self) -> CustomClassifier:
        return get_object_or_404(
            scoped(CustomClassifier, self.tenant), pk=self.kwargs["classifier_pk"]
        )

    def get_tenant_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TrainingRun.objects.all()
        return TrainingRun.objects.filter(classifier=self.classifier()).select_related("version")

    @extend_schema(request=TrainingStartSerializer, responses={202: TrainingRunSerializer})
    def create(self, request, *args, **kwargs):
        """Queue a training; too few samples is a 400 with the counts."""
        data = TrainingStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sample_set = get_object_or_404(
            scoped(SampleSet, self.tenant), pk=data.validated_data["sample_set"]
        )
        run = service.training_start(
            classifier=self.classifier(), sample_set=sample_set, actor=request.user
        )
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)
