"""Custom classifiers of a policy's draft, their versions, and "use this version"."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from policy_admin.api.common import IF_MATCH_PARAMETER, request_revision
from policy_admin.api.serializers.classifiers import (
    ClassifierInputSerializer,
    ClassifierSerializer,
    ClassifierVersionSerializer,
    UseVersionSerializer,
)
from policy_admin.api.views.base import RuleViewSet, rule_schema
from policy_admin.models import CustomClassifier
from policy_admin.services import classifiers


@rule_schema(ClassifierInputSerializer, ClassifierSerializer)
class ClassifierViewSet(RuleViewSet):
    """A policy's custom classifiers; trainings are under /classifiers/<id>/trainings/."""

    model = CustomClassifier
    serializer_class = ClassifierSerializer
    input_serializer_class = ClassifierInputSerializer

    def get_tenant_queryset(self):
        return CustomClassifier.objects.select_related("version")

    def save_rule(self, rule, fields, revision):
        return classifiers.classifier_save(
            policy=self.policy,
            actor=self.request.user,
            revision=revision,
            classifier=rule,
            **fields,
        )

    def delete_rule(self, rule, revision):
        classifiers.classifier_delete(classifier=rule, actor=self.request.user, revision=revision)

    @extend_schema(responses=ClassifierVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request, *args, **kwargs):
        """Every trained version, newest first, with coefficients, pins and metrics."""
        versions = self.get_object().versions.all()
        return Response(ClassifierVersionSerializer(versions, many=True).data)

    @extend_schema(
        request=UseVersionSerializer,
        responses=ClassifierSerializer,
        parameters=[IF_MATCH_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def use(self, request, *args, **kwargs):
        """Pin a version (and optionally a threshold) in the draft; audited."""
        classifier = self.get_object()
        data = UseVersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        revision = request_revision(request, fields)
        version = get_object_or_404(classifier.versions, number=fields["version"])
        classifier = classifiers.classifier_version_use(
            classifier=classifier,
            version=version,
            actor=request.user,
            revision=revision,
            threshold=fields.get("threshold"),
        )
        return Response(self.get_serializer(classifier).data)
