"""Policies: what the API shows, and the input of create and update."""

from rest_framework import serializers

from policy_admin.api.common import RevisionField
from policy_admin.models import Policy
from tenants.models import slug_validator


class PolicySerializer(serializers.ModelSerializer):
    updated_by = serializers.CharField(source="updated_by.username", read_only=True, default=None)
    keyword_set_count = serializers.IntegerField(read_only=True)
    embedding_set_count = serializers.IntegerField(read_only=True)
    concept_count = serializers.IntegerField(read_only=True)
    threshold_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Policy
        fields = [
            "slug",
            "name",
            "description",
            "robustness_floor",
            "revision",
            "created_at",
            "updated_at",
            "updated_by",
            "threshold_count",
            "keyword_set_count",
            "embedding_set_count",
            "concept_count",
        ]
        read_only_fields = fields


class PolicyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(max_length=60, validators=[slug_validator])
    description = serializers.CharField(required=False, allow_blank=True, default="")


class PolicyUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    slug = serializers.CharField(max_length=60, validators=[slug_validator], required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    robustness_floor = serializers.BooleanField(
        required=False,
        help_text="Refuse to publish while a keyword set's latest robustness report catches "
        "under 99% of the variants of an evasion its options cover.",
    )
    revision = RevisionField()
