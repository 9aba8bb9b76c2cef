"""API: a tenant's pending invitations for its admins, and the invitee's accept."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.api.serializers.invitations import (
    InvitationAcceptedSerializer,
    InvitationAcceptSerializer,
    InvitationSerializer,
)
from tenants.models import Invitation
from tenants.roles import Right
from tenants.scoping import TenantAPIMixin
from tenants.services import invitations as services


class InvitationViewSet(
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Invitations neither accepted nor revoked, for the tenant's admins; DELETE revokes one."""

    model = Invitation
    serializer_class = InvitationSerializer
    required_rights = dict.fromkeys(TenantAPIMixin.required_rights, Right.MANAGE_MEMBERS)

    def get_tenant_queryset(self):
        return (
            Invitation.objects.select_related("created_by")
            .filter(accepted_at=None, revoked_at=None)
            .order_by("-created_at", "-id")
        )

    def perform_destroy(self, instance):
        services.invitation_revoke(invitation=instance)


class InvitationAcceptView(APIView):
    """The invitee, signed in as the invited account, accepts and becomes a member."""

    @extend_schema(
        request=InvitationAcceptSerializer,
        responses={201: InvitationAcceptedSerializer},
        description="403 when the invitation is for another account; 410 when it was accepted, "
        "revoked or has expired; 404 for an unknown token.",
    )
    def post(self, request):
        data = InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.invitation_accept(
            token=data.validated_data["token"], user=request.user
        )
        return Response(
            InvitationAcceptedSerializer(membership).data, status=status.HTTP_201_CREATED
        )
