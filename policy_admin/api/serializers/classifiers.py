"""Custom classifiers and their versions: explicit output fields, input per verb."""

from rest_framework import serializers

from policy_admin.api.common import PolicyRevisionField, RevisionField
from policy_admin.api.serializers.rules import RULE_FIELDS
from policy_admin.models import ClassifierVersion, CustomClassifier
from policy_admin.models.rules import RULE_ACTIONS

FILTER_HELP = (
    'Which samples: {"actions": [...], "categories": [...], "tags": [...]}; a sample matches '
    "when every key given matches."
)


class ClassifierVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClassifierVersion
        fields = [
            "id", "number", "target", "coefficients", "feature_pins", "metrics", "sample_set_id",
            "sample_ids", "samples_sha256", "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ClassifierSerializer(serializers.ModelSerializer):
    revision = PolicyRevisionField()
    version = serializers.IntegerField(source="version.number", read_only=True, allow_null=True)

    class Meta:
        model = CustomClassifier
        fields = [
            "name", "target", "positives", "negatives", "threshold", "target_precision",
            "action", "version", *RULE_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields


class SampleFilterField(serializers.JSONField):
    def __init__(self, **kwargs):
        super().__init__(help_text=FILTER_HELP, **kwargs)


class ClassifierInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    target = serializers.ChoiceField(choices=CustomClassifier.Target.choices, default="image")
    positives = SampleFilterField()
    negatives = SampleFilterField()
    threshold = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.5)
    target_precision = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.9)
    action = serializers.ChoiceField(choices=RULE_ACTIONS, default="review")
    revision = RevisionField()


class UseVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version number to use.")
    threshold = serializers.FloatField(
        min_value=0.0, max_value=1.0, required=False, help_text="Also set the threshold."
    )
    revision = RevisionField()
