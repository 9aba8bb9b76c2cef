"""Versions, channels, their history and diffs, and fleet tokens, as the API shows them."""

from rest_framework import serializers

from policy_admin.api.common import RevisionField
from policy_admin.models import (
    Channel,
    ChannelMove,
    FleetToken,
    Policy,
    PolicyVersion,
    PublishApproval,
)


class PolicyVersionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, allow_null=True)
    restores = serializers.IntegerField(source="restores.number", read_only=True, allow_null=True)
    key_ids = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = PolicyVersion
        fields = [
            "number",
            "sha256",
            "key_ids",
            "revision",
            "restores",
            "note",
            "author",
            "created_at",
        ]
        read_only_fields = fields


class PublishInputSerializer(serializers.Serializer):
    revision = RevisionField(help_text="The draft revision you reviewed; a newer draft is a 409.")
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)


class ChannelSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True, allow_null=True)
    sha256 = serializers.CharField(source="version.sha256", read_only=True, allow_null=True)

    class Meta:
        model = Channel
        fields = ["name", "version", "sha256", "updated_at"]
        read_only_fields = fields


class ShadowSerializer(serializers.ModelSerializer):
    """A channel's shadow: the candidate judged beside the enforced version."""

    channel = serializers.CharField(source="name", read_only=True)
    enforced_version = serializers.IntegerField(
        source="version.number", read_only=True, allow_null=True
    )
    shadow_version = serializers.IntegerField(
        source="shadow_version.number", read_only=True, allow_null=True
    )
    rate_percent = serializers.SerializerMethodField()
    older_than_enforced = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = [
            "channel",
            "enforced_version",
            "shadow_version",
            "rate_percent",
            "shadow_started_at",
            "guard_points",
            "guard_requests",
            "older_than_enforced",
        ]
        read_only_fields = fields

    def get_rate_percent(self, channel) -> float:
        return round(channel.shadow_rate * 100, 4)

    def get_older_than_enforced(self, channel) -> bool:
        if channel.shadow_version is None or channel.version is None:
            return False
        return channel.shadow_version.number < channel.version.number


class ShadowInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version number to shadow.")
    rate_percent = serializers.FloatField(
        min_value=0, max_value=100, help_text="The share of requests shadowed, 0 to 100."
    )
    guard_points = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Stop when the shadow's block rate exceeds the enforced one by these points.",
    )
    guard_requests = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="…measured over this many shadowed requests.",
    )


class ChannelMoveInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version number to move to.")
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)


class ChannelMoveSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)
    from_version = serializers.IntegerField(
        source="from_version.number", read_only=True, allow_null=True
    )
    to_version = serializers.IntegerField(source="to_version.number", read_only=True)

    class Meta:
        model = ChannelMove
        fields = ["kind", "from_version", "to_version", "note", "actor", "created_at"]
        read_only_fields = fields


class DiffQuerySerializer(serializers.Serializer):
    against = serializers.IntegerField(min_value=1, help_text="The older version to compare with.")


class FleetTokenSerializer(serializers.ModelSerializer):
    policies = serializers.SerializerMethodField()
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = FleetToken
        fields = [
            "id",
            "name",
            "token_prefix",
            "policies",
            "channels",
            "expires_at",
            "revoked",
            "revoked_at",
            "last_used_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_policies(self, token) -> list[str]:
        slugs = self.context.get("policy_slugs", {})
        return [slugs.get(pk, str(pk)) for pk in token.policy_ids]

    def get_revoked(self, token) -> bool:
        return token.revoked_at is not None


class FleetTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    policies = serializers.ListField(
        child=serializers.SlugField(), required=False, default=list, help_text="Empty: all."
    )
    channels = serializers.ListField(
        child=serializers.SlugField(), required=False, default=list, help_text="Empty: all."
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_policies(self, slugs):
        tenant = self.context["tenant"]
        found = list(Policy.objects.filter(tenant=tenant, slug__in=slugs))
        missing = sorted(set(slugs) - {p.slug for p in found})
        if missing:
            raise serializers.ValidationError(f"No such policy: {', '.join(missing)}.")
        return found


class FleetTokenCreatedSerializer(FleetTokenSerializer):
    secret = serializers.SerializerMethodField(help_text="Shown this once; store it now.")

    class Meta(FleetTokenSerializer.Meta):
        fields = [*FleetTokenSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, token) -> str:
        return self.context["secret"]


class ApproveInputSerializer(serializers.Serializer):
    revision = RevisionField(help_text="The draft revision you reviewed and approve.")


class ApprovalSerializer(serializers.ModelSerializer):
    approver = serializers.CharField(source="approver.username", read_only=True, allow_null=True)

    class Meta:
        model = PublishApproval
        fields = ["revision", "approver", "created_at"]
        read_only_fields = fields


class PublishingSettingsSerializer(serializers.Serializer):
    require_approval = serializers.BooleanField(
        help_text="Four eyes: a publish needs another member's approval of the exact draft "
        "revision, and the revision's authors cannot approve it."
    )
