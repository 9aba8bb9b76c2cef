"""Serializers for invitations: what the inviter typed, never anything of the invited account."""

from rest_framework import serializers

from tenants.models import Invitation, Membership


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        source="status_now", choices=Invitation.Status.choices, read_only=True
    )
    invited_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    username = serializers.CharField(read_only=True, help_text="The username the admin typed.")

    class Meta:
        model = Invitation
        fields = ["id", "username", "role", "status", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields


class InvitationCreatedSerializer(InvitationSerializer):
    token = serializers.CharField(
        read_only=True,
        help_text="The invitation's secret, shown only in this response: the invitee posts it "
        "to /api/v1/invitations/accept/.",
    )
    accept_url = serializers.URLField(
        read_only=True, help_text="The page where the invitee, signed in, accepts; shown once."
    )

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "token", "accept_url"]
        read_only_fields = fields


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=100, help_text="The token of the invitation link.")


class InvitationAcceptedSerializer(serializers.ModelSerializer):
    tenant = serializers.CharField(source="tenant.slug", read_only=True)
    tenant_name = serializers.CharField(source="tenant.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "tenant", "tenant_name", "role", "created_at"]
        read_only_fields = fields
