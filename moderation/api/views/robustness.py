"""API: robustness reports of a policy's keyword sets (start one, read them)."""

from functools import cached_property

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from moderation.api.serializers import robustness as s
from moderation.services.robustness import keyword_robustness_start
from policy_admin.api.common import PolicyChildMixin
from policy_admin.models import KeywordRobustnessReport, KeywordRuleSet
from tenants.scoping import scoped


class KeywordRobustnessViewSet(
    PolicyChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """policies/<policy>/keyword-sets/<set>/robustness/: the set's reports, newest first."""

    model = KeywordRobustnessReport
    serializer_class = s.RobustnessReportSerializer

    @cached_property
    def keyword_set(self) -> KeywordRuleSet:
        rows = scoped(KeywordRuleSet, self.tenant).filter(policy=self.policy)
        keyword_set = get_object_or_404(rows, pk=self.kwargs["set_pk"])
        keyword_set.policy = self.policy
        return keyword_set

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return KeywordRobustnessReport.objects.none()
        reports = scoped(KeywordRobustnessReport, self.tenant).filter(keyword_set=self.keyword_set)
        return reports.select_related("created_by", "keyword_set")

    @extend_schema(
        request=s.RobustnessStartSerializer, responses={202: s.RobustnessReportSerializer}
    )
    def create(self, request, *args, **kwargs):
        """Queue a report of the set as it is now; poll it until `status` is finished."""
        data = s.RobustnessStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = keyword_robustness_start(
            keyword_set=self.keyword_set, actor=request.user, seed=data.validated_data.get("seed")
        )
        return Response(self.get_serializer(report).data, status=status.HTTP_202_ACCEPTED)
