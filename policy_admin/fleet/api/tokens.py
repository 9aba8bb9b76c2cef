"""Fleet tokens of a tenant, for its admins: create (secret shown once), list, revoke."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from policy_admin.api.serializers.publishing import (
    FleetTokenCreatedSerializer,
    FleetTokenCreateSerializer,
    FleetTokenSerializer,
)
from policy_admin.fleet import services as fleet
from policy_admin.models import FleetToken, Policy
from tenants.roles import Right
from tenants.scoping import TenantAPIMixin


class FleetTokenViewSet(
    TenantAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Only the tenant's admins see or manage its fleet tokens."""

    model = FleetToken
    serializer_class = FleetTokenSerializer
    required_rights = dict.fromkeys(TenantAPIMixin.required_rights, Right.MANAGE_TOKENS)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "tenant", None) is not None:
            rows = Policy.objects.filter(tenant=self.tenant).values_list("pk", "slug")
            context["policy_slugs"] = dict(rows)
        return context

    @extend_schema(request=FleetTokenCreateSerializer, responses={201: FleetTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = FleetTokenCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        token, secret = fleet.fleet_token_create(
            tenant=self.tenant, actor=request.user, **data.validated_data
        )
        context = {**self.get_serializer_context(), "secret": secret}
        return Response(
            FleetTokenCreatedSerializer(token, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses=FleetTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        token = fleet.fleet_token_revoke(token=self.get_object(), actor=request.user)
        return Response(self.get_serializer(token).data)
