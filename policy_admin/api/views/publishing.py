"""Publishing verbs: publish a draft, list versions, diff them, promote and roll back channels."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from policy_admin.api.common import PolicyChildMixin, request_revision
from policy_admin.api.serializers.publishing import (
    ApprovalSerializer,
    ApproveInputSerializer,
    ChannelMoveInputSerializer,
    ChannelMoveSerializer,
    ChannelSerializer,
    DiffQuerySerializer,
    PolicyVersionSerializer,
    PublishingSettingsSerializer,
    PublishInputSerializer,
    ShadowInputSerializer,
    ShadowSerializer,
)
from policy_admin.models import Channel, PolicyVersion
from policy_admin.selectors import publishing as selectors
from policy_admin.services import approvals, publishing, shadow
from tenants.roles import Right
from tenants.scoping import TenantAPIMixin

PUBLISH_RIGHTS = {**TenantAPIMixin.required_rights, "POST": Right.PUBLISH}


class VersionViewSet(PolicyChildMixin, viewsets.ReadOnlyModelViewSet):
    """A policy's published versions (never edited); POST publish/ makes the next one."""

    model = PolicyVersion
    serializer_class = PolicyVersionSerializer
    lookup_field = "number"
    lookup_url_kwarg = "number"
    lookup_value_regex = r"\d+"
    required_rights = PUBLISH_RIGHTS

    def get_tenant_queryset(self):
        return PolicyVersion.objects.defer("bundle").select_related("author", "restores")

    @extend_schema(request=PublishInputSerializer, responses={201: PolicyVersionSerializer})
    @action(detail=False, methods=["post"])
    def publish(self, request, *args, **kwargs):
        data = PublishInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = publishing.policy_publish(
            policy=self.policy,
            actor=request.user,
            revision=request_revision(request, data.validated_data),
            note=data.validated_data["note"],
        )
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ApproveInputSerializer, responses={201: ApprovalSerializer})
    @action(detail=False, methods=["post"])
    def approve(self, request, *args, **kwargs):
        """Approve the draft revision for publishing (four eyes); not by its own authors."""
        data = ApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        approval = approvals.policy_approve(
            policy=self.policy,
            actor=request.user,
            revision=request_revision(request, data.validated_data),
        )
        return Response(ApprovalSerializer(approval).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[DiffQuerySerializer])
    @action(detail=True, methods=["get"])
    def diff(self, request, *args, **kwargs):
        """What changed from version `against` to this one."""
        query = DiffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            diff = selectors.version_diff(
                policy=self.policy, old=query.validated_data["against"], new=int(kwargs["number"])
            )
        except PolicyVersion.DoesNotExist:
            raise Http404("No such version.") from None
        return Response(
            {
                "added": [dict(zip(("kind", "id", "name"), a, strict=True)) for a in diff.added],
                "removed": [
                    dict(zip(("kind", "id", "name"), r, strict=True)) for r in diff.removed
                ],
                "changed": [
                    {
                        "kind": c.kind,
                        "id": c.id,
                        "name": c.name,
                        "fields": {k: {"before": b, "after": a} for k, (b, a) in c.fields.items()},
                    }
                    for c in diff.changed
                ],
            }
        )


class ChannelViewSet(PolicyChildMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A policy's channels; promote/ and rollback/ move one, history/ lists its moves."""

    model = Channel
    serializer_class = ChannelSerializer
    lookup_field = "name"
    lookup_url_kwarg = "channel"
    lookup_value_regex = "[a-z0-9-]+"
    required_rights = {**PUBLISH_RIGHTS, "PUT": Right.PUBLISH, "DELETE": Right.PUBLISH}

    def get_tenant_queryset(self):
        return Channel.objects.select_related("version", "shadow_version")

    def _move(self, request, service, channel: str):
        data = ChannelMoveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = service(
            policy=self.policy,
            actor=request.user,
            channel=channel,
            number=data.validated_data["version"],
            note=data.validated_data["note"],
        )
        return Response(self.get_serializer(moved).data)

    @extend_schema(request=ChannelMoveInputSerializer, responses=ChannelSerializer)
    @action(detail=True, methods=["post"])
    def promote(self, request, *args, **kwargs):
        """Point the channel (created on first use) at a version."""
        return self._move(request, publishing.channel_promote, kwargs["channel"])

    @extend_schema(request=ChannelMoveInputSerializer, responses=ChannelSerializer)
    @action(detail=True, methods=["post"])
    def rollback(self, request, *args, **kwargs):
        """Point the channel at a new version repeating an earlier version's rules."""
        return self._move(request, publishing.channel_rollback, kwargs["channel"])

    @extend_schema(methods=["GET", "DELETE"], request=None, responses=ShadowSerializer)
    @extend_schema(methods=["PUT"], request=ShadowInputSerializer, responses=ShadowSerializer)
    @action(detail=True, methods=["get", "put", "delete"])
    def shadow(self, request, *args, **kwargs):
        """The channel's shadow: GET shows it, PUT sets or changes it, DELETE stops it."""
        channel = self.get_object()
        if request.method == "PUT":
            data = ShadowInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            channel = shadow.shadow_set(
                policy=self.policy,
                actor=request.user,
                channel=channel.name,
                number=values["version"],
                rate=values["rate_percent"] / 100,
                guard_points=values["guard_points"],
                guard_requests=values["guard_requests"],
            )
        elif request.method == "DELETE":
            channel = shadow.shadow_stop(
                policy=self.policy, actor=request.user, channel=channel.name
            )
        channel = self.get_queryset().get(pk=channel.pk)
        return Response(ShadowSerializer(channel).data)

    @extend_schema(request=None, responses=ChannelSerializer)
    @action(detail=True, methods=["post"], url_path="shadow/promote")
    def shadow_promote(self, request, *args, **kwargs):
        """Move the channel to its shadow version and end the shadow, in one step."""
        channel = self.get_object()
        moved = shadow.shadow_promote(policy=self.policy, actor=request.user, channel=channel.name)
        return Response(self.get_serializer(moved).data)

    @extend_schema(responses=ChannelMoveSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, *args, **kwargs):
        moves = selectors.channel_history(channel=self.get_object())
        page = self.paginate_queryset(moves)
        return self.get_paginated_response(ChannelMoveSerializer(page, many=True).data)


class PublishingSettingsView(TenantAPIMixin, generics.GenericAPIView):
    """The tenant's publishing rules: every member reads them, only its admins change them."""

    serializer_class = PublishingSettingsSerializer
    required_rights = {**TenantAPIMixin.required_rights, "PUT": Right.MANAGE_PUBLISHING}
    http_method_names = ["get", "put", "head", "options"]

    def get(self, request, *args, **kwargs):
        return Response(self._current())

    def put(self, request, *args, **kwargs):
        """Turn four-eyes publishing on or off (audited)."""
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        approvals.publishing_settings_set(
            tenant=self.tenant,
            actor=request.user,
            require_approval=data.validated_data["require_approval"],
        )
        return Response(self._current())

    def _current(self) -> dict:
        return {"require_approval": approvals.approval_required(tenant=self.tenant)}
