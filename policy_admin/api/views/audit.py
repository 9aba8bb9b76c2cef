"""The audit log, read-only: the tenant's, and one policy's."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from policy_admin.api.common import PolicyChildMixin
from policy_admin.api.serializers.audit import (
    AuditEventSerializer,
    AuditFilterSerializer,
    TenantAuditFilterSerializer,
)
from policy_admin.models import AuditEvent, Policy
from policy_admin.selectors import policies as selectors
from tenants.scoping import TenantAPIMixin


@extend_schema_view(list=extend_schema(parameters=[TenantAuditFilterSerializer]))
class AuditEventViewSet(TenantAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Every change in the tenant, newest first; filter by actor, date and policy."""

    model = AuditEvent
    serializer_class = AuditEventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        filters = TenantAuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        policy = self.filter_policy(data.pop("policy"))
        events = selectors.audit_list(tenant=self.tenant, policy=policy, **data)
        return events.select_related("policy")

    def filter_policy(self, slug: str) -> Policy | None:
        if not slug:
            return None
        try:
            return selectors.policy_get(tenant=self.tenant, slug=slug)
        except Policy.DoesNotExist:
            raise ValidationError({"policy": [f"This tenant has no policy “{slug}”."]}) from None


@extend_schema_view(list=extend_schema(parameters=[AuditFilterSerializer]))
class PolicyAuditEventViewSet(PolicyChildMixin, viewsets.ReadOnlyModelViewSet):
    """Every change of one policy, newest first; filter by actor and date."""

    model = AuditEvent
    serializer_class = AuditEventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        filters = AuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        events = selectors.audit_list(
            tenant=self.tenant, policy=self.policy, **filters.validated_data
        )
        return events.select_related("policy")
