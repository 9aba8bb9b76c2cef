"""The audit log, read-only, and its filters."""

from rest_framework import serializers

from policy_admin.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)
    policy = serializers.CharField(
        source="policy.slug", read_only=True, allow_null=True, help_text="Null once deleted."
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "verb",
            "target_type",
            "target_id",
            "target_name",
            "policy",
            "policy_name",
            "summary",
            "before",
            "after",
        ]
        read_only_fields = fields


class AuditFilterSerializer(serializers.Serializer):
    # Blank is no filter, as a form's empty field (`?actor=`) sends; allowing it also
    # keeps the documented default "" valid against the parameter's own schema.
    actor = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="A username."
    )
    since = serializers.DateField(required=False, help_text="First day, YYYY-MM-DD.")
    until = serializers.DateField(required=False, help_text="Last day, YYYY-MM-DD.")

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["`until` is before `since`."]})
        return attrs


class TenantAuditFilterSerializer(AuditFilterSerializer):
    policy = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="A policy's slug."
    )
