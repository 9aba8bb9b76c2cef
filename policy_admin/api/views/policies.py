"""A tenant's policies, looked up by slug."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from policy_admin.api.common import IF_MATCH_PARAMETER, RevisionInputSerializer, request_revision
from policy_admin.api.serializers.policies import (
    PolicyCreateSerializer,
    PolicySerializer,
    PolicyUpdateSerializer,
)
from policy_admin.api.views.policy_yaml import PolicyYamlActionsMixin
from policy_admin.models import Policy
from policy_admin.selectors import policies as selectors
from policy_admin.services import policies
from tenants.scoping import TenantAPIMixin

_write = {"request": PolicyUpdateSerializer, "parameters": [IF_MATCH_PARAMETER]}


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("search", OpenApiTypes.STR, description="Name, slug, text.")]
    ),
    create=extend_schema(request=PolicyCreateSerializer, responses={201: PolicySerializer}),
    update=extend_schema(**_write),
    partial_update=extend_schema(**_write),
    destroy=extend_schema(request=RevisionInputSerializer, parameters=[IF_MATCH_PARAMETER]),
)
class PolicyViewSet(PolicyYamlActionsMixin, TenantAPIMixin, viewsets.ModelViewSet):
    """The tenant's policies; their rules live under /policies/<slug>/<kind>/."""

    model = Policy
    serializer_class = PolicySerializer
    lookup_field = "slug"
    lookup_url_kwarg = "policy"
    lookup_value_regex = "[a-z0-9-]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Policy.objects.none()
        search = self.request.query_params.get("search", "")
        return selectors.policy_list(tenant=self.tenant, search=search)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "policy", None) is not None:
            context["policy"] = self.policy
        return context

    def shown(self, policy: Policy) -> dict:
        """The policy as the list shows it, counts included (one query)."""
        return self.get_serializer(selectors.policy_list(tenant=self.tenant).get(pk=policy.pk)).data

    def create(self, request, *args, **kwargs):
        data = PolicyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = policies.policy_create(
            tenant=self.tenant, actor=request.user, **data.validated_data
        )
        return Response(self.shown(policy), status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        policy = self.get_object()
        data = PolicyUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        revision = request_revision(request, fields)
        fields.pop("revision", None)
        policy = policies.policy_update(
            policy=policy, actor=request.user, revision=revision, **fields
        )
        return Response(self.shown(policy))

    def destroy(self, request, *args, **kwargs):
        policy = self.get_object()
        data = RevisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        revision = request_revision(request, data.validated_data)
        policies.policy_delete(policy=policy, actor=request.user, revision=revision)
        return Response(status=status.HTTP_204_NO_CONTENT)
