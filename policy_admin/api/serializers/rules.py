"""Category thresholds and embedding sets: output with explicit fields, input per verb."""

from rest_framework import serializers

from policy_admin.api.common import PolicyRevisionField, RevisionField
from policy_admin.models import AppliesTo, CategoryThreshold, EmbeddingRuleSet, TextTarget
from policy_admin.models.rules import RULE_ACTIONS
from policy_admin.selectors import catalogue
from policy_admin.services.rules import MAX_PHRASE_LENGTH, MAX_PHRASES

RULE_FIELDS = ["id", "created_at", "updated_at", "revision"]


class ThresholdSerializer(serializers.ModelSerializer):
    revision = PolicyRevisionField()

    class Meta:
        model = CategoryThreshold
        fields = ["category", "applies_to", "review_at", "block_at", "enabled", *RULE_FIELDS]
        read_only_fields = fields


class ThresholdInputSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=[])
    applies_to = serializers.ChoiceField(choices=AppliesTo.choices, default=AppliesTo.BOTH)
    review_at = serializers.FloatField(min_value=0.0, max_value=1.0)
    block_at = serializers.FloatField(min_value=0.0, max_value=1.0)
    enabled = serializers.BooleanField(default=True)
    revision = RevisionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = catalogue.category_choices()


def text_target_field() -> serializers.ChoiceField:
    """Which text a set reads; left out on update, the set keeps what it had."""
    return serializers.ChoiceField(
        choices=TextTarget.choices,
        required=False,
        help_text="prompt (the default on create), image_text (the text the OCR model reads "
        "in images; the bundle then pins it) or both.",
    )


def phrase_list(**kwargs) -> serializers.ListField:
    child = serializers.CharField(max_length=MAX_PHRASE_LENGTH, allow_blank=True)
    return serializers.ListField(child=child, max_length=MAX_PHRASES, **kwargs)


class EmbeddingSetSerializer(serializers.ModelSerializer):
    revision = PolicyRevisionField()

    class Meta:
        model = EmbeddingRuleSet
        fields = [
            "name", "action", "threshold", "applies_to", "examples", "counter_examples",
            *RULE_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields


class EmbeddingSetInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    action = serializers.ChoiceField(choices=RULE_ACTIONS, default="review")
    threshold = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.6)
    applies_to = text_target_field()
    examples = phrase_list(min_length=1)
    counter_examples = phrase_list(required=False, default=list)
    revision = RevisionField()
