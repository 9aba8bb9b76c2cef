"""Serializers for tenants and memberships: explicit fields, no business logic."""

from rest_framework import serializers

from tenants.models import Membership, Tenant
from tenants.roles import Role


class TenantSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role in this tenant.")

    class Meta:
        model = Tenant
        fields = ["slug", "name", "created_at", "role"]
        read_only_fields = fields

    def get_role(self, tenant) -> str:
        return self.context["roles"].get(tenant.pk, "")


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "created_at", "updated_at"]
        read_only_fields = fields


class MemberInviteSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    # No default: "" is not an email address, so documenting it would make the schema invalid.
    email = serializers.EmailField(
        required=False, allow_blank=True, help_text="Used only when the account is new."
    )
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class MemberInviteResultSerializer(MembershipSerializer):
    password = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The new account's one-time password; null when the account existed.",
    )

    class Meta(MembershipSerializer.Meta):
        fields = [*MembershipSerializer.Meta.fields, "password"]
        read_only_fields = fields


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
