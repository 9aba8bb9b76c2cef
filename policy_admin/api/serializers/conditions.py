"""Conditional rules: output with explicit fields, input with the policy's own sets only."""

from rest_framework import serializers

from policy_admin.api.common import PolicyRevisionField, RevisionField
from policy_admin.api.serializers.rules import RULE_FIELDS
from policy_admin.models import ConditionalRule, EmbeddingRuleSet, KeywordRuleSet
from policy_admin.selectors import catalogue
from policy_admin.services.conditions import MAX_IMAGE_THRESHOLDS
from tenants.scoping import scoped


class ImageThresholdSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=[])
    review_at = serializers.FloatField(min_value=0.0, max_value=1.0)
    block_at = serializers.FloatField(min_value=0.0, max_value=1.0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = catalogue.category_choices()


class ConditionSerializer(serializers.ModelSerializer):
    revision = PolicyRevisionField()
    image_thresholds = ImageThresholdSerializer(many=True, read_only=True)

    class Meta:
        model = ConditionalRule
        fields = [
            "name", "when", "keyword_set", "embedding_set", "category", "at_least",
            "image_thresholds", "enabled", *RULE_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields


class ConditionInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    when = serializers.ChoiceField(choices=ConditionalRule.When.choices)
    keyword_set = serializers.PrimaryKeyRelatedField(
        queryset=KeywordRuleSet.objects.none(), required=False, allow_null=True
    )
    embedding_set = serializers.PrimaryKeyRelatedField(
        queryset=EmbeddingRuleSet.objects.none(), required=False, allow_null=True
    )
    category = serializers.CharField(max_length=60, required=False, allow_blank=True)
    at_least = serializers.FloatField(min_value=0.0, max_value=1.0, required=False, allow_null=True)
    image_thresholds = ImageThresholdSerializer(many=True, max_length=MAX_IMAGE_THRESHOLDS)
    enabled = serializers.BooleanField(default=True)
    revision = RevisionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policy = self.context.get("policy")
        # Only this policy's sets can be named: any other id reads as "does not exist".
        for name, model in (("keyword_set", KeywordRuleSet), ("embedding_set", EmbeddingRuleSet)):
            if policy is not None:
                self.fields[name].queryset = scoped(model, policy.tenant).filter(policy=policy)

    def validate_image_thresholds(self, rows):
        return [dict(row) for row in rows]
