"""API: a policy's quality over time and the drift of its scores, as the quality pages show them."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from kernel.errors import ApplicationError
from moderation.api.serializers import production as sp
from moderation.api.serializers import quality as s
from moderation.models import TestRun
from moderation.selectors import production, quality
from policy_admin.api.common import PolicyChildMixin
from tenants.scoping import scoped


class PolicyQualityViewSet(PolicyChildMixin, viewsets.GenericViewSet):
    """GET policies/<policy>/quality/, .../quality/drift/ and .../quality/production/: read by
    every member."""

    model = TestRun
    serializer_class = s.PolicyQualitySerializer

    @extend_schema(responses=s.PolicyQualitySerializer)
    @action(detail=False, methods=["get"])
    def quality(self, request, *args, **kwargs):
        """Per sample set, the finished suites oldest first with their stored metrics and
        latency; per channel, how many servers run, lag, refuse or stopped reporting it."""
        return Response(s.PolicyQualitySerializer(quality.policy_quality(policy=self.policy)).data)

    @extend_schema(parameters=[s.DriftQuerySerializer], responses=s.DriftSerializer)
    @action(detail=False, methods=["get"], url_path="quality/drift")
    def drift(self, request, *args, **kwargs):
        """PSI and KS of every category and concept score, baseline suite against a later
        suite or the last live tests, with the histogram shares of both sides."""
        query = s.DriftQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            comparison = quality.drift_compare(policy=self.policy, **query.validated_data)
        except TestRun.DoesNotExist:
            raise self.refused_run(query.validated_data) from None
        return Response(s.DriftSerializer(comparison).data)

    @extend_schema(parameters=[sp.ProductionQuerySerializer], responses=sp.ProductionSerializer)
    @action(detail=False, methods=["get"], url_path="quality/production")
    def production(self, request, *args, **kwargs):
        """Decisions per action over time and per channel and version, the share sent to
        review, the review backlog, and precision and recall of block and of flag-or-worse
        estimated from the random audit stratum only, with 95% intervals."""
        query = sp.ProductionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = production.policy_production(policy=self.policy, **query.validated_data)
        return Response(sp.ProductionSerializer(figures).data)

    def refused_run(self, params: dict) -> Exception:
        """Say which id is not one of the policy's finished suites, and what to pass instead.

        An id outside the tenant (unknown, or another tenant's) is a 404 either way, so the
        answer never tells whether another tenant's run exists.
        """
        ids = [pk for pk in (params["baseline_id"], params["current_id"]) if pk]
        known = set(scoped(TestRun, self.tenant).filter(pk__in=ids).values_list("pk", flat=True))
        suites = quality.finished_suites(policy=self.policy)
        for pk in ids:
            if pk not in known:
                return NotFound(f"No suite run #{pk} here. {s.RUN_ID_HELP}")
            if not suites.filter(pk=pk).exists():
                newest = ", ".join(str(run.pk) for run in suites[:5])
                return ApplicationError(
                    f"Run #{pk} is not a finished suite of {self.policy.name}. Pass as `baseline` "
                    f"and `current` the ids of its finished suites (the newest: {newest}), "
                    "or current=live."
                )
        return NotFound(f"No finished suite of {self.policy.name} to compare. {s.RUN_ID_HELP}")
