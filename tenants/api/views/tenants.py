"""API: the user's tenants, and each tenant's members."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from tenants.api.serializers.invitations import InvitationCreatedSerializer
from tenants.api.serializers.tenants import (
    MemberInviteResultSerializer,
    MemberInviteSerializer,
    MemberRoleSerializer,
    MembershipSerializer,
    TenantSerializer,
)
from tenants.models import Membership
from tenants.roles import Right
from tenants.scoping import TenantAPIMixin
from tenants.selectors import members as selectors
from tenants.services import members as services


class TenantViewSet(viewsets.ReadOnlyModelViewSet):
    """The tenants you are a member of; any other slug is a 404."""

    serializer_class = TenantSerializer
    lookup_field = "slug"
    lookup_url_kwarg = "tenant"

    def get_queryset(self):
        return selectors.tenant_list_for_user(user=self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        memberships = selectors.membership_list_for_user(user=self.request.user)
        context["roles"] = {m.tenant_id: m.role for m in memberships}
        return context


class MemberViewSet(
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A tenant's members: every member reads, admins invite, change roles and remove."""

    model = Membership
    serializer_class = MembershipSerializer
    required_rights = {
        **TenantAPIMixin.required_rights,
        "POST": Right.MANAGE_MEMBERS,
        "PATCH": Right.MANAGE_MEMBERS,
        "PUT": Right.MANAGE_MEMBERS,
        "DELETE": Right.MANAGE_MEMBERS,
    }

    def get_tenant_queryset(self):
        return Membership.objects.select_related("user").order_by("user__username")

    @extend_schema(
        request=MemberInviteSerializer,
        responses={201: MemberInviteResultSerializer, 202: InvitationCreatedSerializer},
        description="A new username gets an account and joins at once (201, with its one-time "
        "password). An existing account is only invited (202): it joins once its owner "
        "accepts, and until then nothing of it is shown beyond the username you sent.",
    )
    def create(self, request, *args, **kwargs):
        data = MemberInviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invited = services.member_invite(
            tenant=self.tenant, actor=request.user, **data.validated_data
        )
        if invited.invitation is not None:
            invitation = invited.invitation
            invitation.token = invited.token
            invitation.accept_url = request.build_absolute_uri(
                reverse("invitation-accept", kwargs={"token": invited.token})
            )
            return Response(
                InvitationCreatedSerializer(invitation).data, status=status.HTTP_202_ACCEPTED
            )
        membership = invited.membership
        membership.password = invited.password
        return Response(
            MemberInviteResultSerializer(membership).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=MemberRoleSerializer, responses=MembershipSerializer)
    def partial_update(self, request, *args, **kwargs):
        data = MemberRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_change_role(
            membership=self.get_object(), role=data.validated_data["role"]
        )
        return Response(MembershipSerializer(membership).data)

    def perform_destroy(self, instance):
        services.member_remove(membership=instance)
