"""API: review queues (list, claim the next item, export), claims (answer, skip), labels."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from moderation.api.serializers import review as s
from moderation.api.serializers.suites import SampleImportSerializer
from moderation.models import ReviewClaim, ReviewLabel, ReviewQueue, SampleSet
from moderation.selectors import review as selectors
from moderation.services import review as services
from moderation.services.review_export import review_export
from tenants.roles import Right
from tenants.scoping import TenantAPIMixin, require_right, scoped


class ReviewQueueViewSet(TenantAPIMixin, viewsets.ReadOnlyModelViewSet):
    """The tenant's queues with backlogs; reviewers claim from one, editors export one."""

    model = ReviewQueue
    serializer_class = s.ReviewQueueSerializer
    lookup_field = "slug"

    def check_right(self, method):
        if self.action == "claim":
            return require_right(self.membership, Right.REVIEW)
        return super().check_right(method)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReviewQueue.objects.none()
        services.default_queue(self.tenant)
        return selectors.review_queue_list(tenant=self.tenant)

    @extend_schema(
        request=None,
        responses={
            200: s.ReviewClaimSerializer,
            204: OpenApiResponse(description="Nothing left for you in this queue."),
        },
    )
    @action(detail=True, methods=["post"])
    def claim(self, request, *args, **kwargs):
        """Claim the next item under a lease (or get back the one you hold), without the
        policy's decision: it comes with the answer."""
        item = services.review_claim(self.get_object(), request.user)
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        claim = item.claims.filter(reviewer=request.user).order_by("-claimed_at").first()
        return Response(s.ReviewClaimSerializer(claim).data)

    @extend_schema(
        request=s.ReviewExportInputSerializer, responses={201: SampleImportSerializer(many=True)}
    )
    @action(detail=True, methods=["post"])
    def export(self, request, *args, **kwargs):
        """Import the queue's labelled items (all, or where `rule_id` fired) into a sample set."""
        data = s.ReviewExportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = get_object_or_404(
            scoped(SampleSet, self.tenant), pk=data.validated_data["sample_set"]
        )
        reports = review_export(
            queue=self.get_object(),
            sample_set=target,
            actor=request.user,
            rule_id=data.validated_data["rule_id"].strip(),
        )
        return Response(
            SampleImportSerializer(reports, many=True).data, status=status.HTTP_201_CREATED
        )


class ReviewClaimViewSet(TenantAPIMixin, viewsets.GenericViewSet):
    """Answer or skip a claimed item; an answer after the lease expired is a 409 saying so."""

    model = ReviewClaim
    serializer_class = s.ReviewClaimSerializer
    required_rights = {**TenantAPIMixin.required_rights, "POST": Right.REVIEW}

    def get_tenant_queryset(self):
        return ReviewClaim.objects.select_related("item__record", "item__sample")

    @extend_schema(request=s.ReviewAnswerInputSerializer, responses={201: s.ReviewAnswerSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request, *args, **kwargs):
        """Label the claimed item; the response carries the policy's per-rule explanation."""
        data = s.ReviewAnswerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = services.review_answer(self.get_object(), request.user, **data.validated_data)
        body = {"label": label, "explanation": label.record}
        return Response(s.ReviewAnswerSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def skip(self, request, *args, **kwargs):
        """Give the item back to the queue unanswered."""
        claim = self.get_object()
        if claim.reviewer_id != request.user.pk:
            return Response(
                {"detail": "This claim belongs to another reviewer. Claim an item yourself."},
                status=status.HTTP_409_CONFLICT,
            )
        services.review_skip(claim)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReviewLabelViewSet(TenantAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The tenant's labels, newest first; `?queue=<slug>` for one queue."""

    model = ReviewLabel
    serializer_class = s.ReviewLabelSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReviewLabel.objects.none()
        slug = self.request.query_params.get("queue", "")
        queue = get_object_or_404(scoped(ReviewQueue, self.tenant), slug=slug) if slug else None
        return selectors.review_label_list(tenant=self.tenant, queue=queue)

    @extend_schema(parameters=[OpenApiParameter("queue", str, description="A queue's slug.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
