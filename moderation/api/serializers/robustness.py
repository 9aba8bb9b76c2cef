"""Robustness reports of keyword sets, as the API shows them."""

from rest_framework import serializers

from policy_admin.models import KeywordRobustnessReport
from policy_admin.selectors.robustness import robustness_is_current


class RobustnessStartSerializer(serializers.Serializer):
    seed = serializers.IntegerField(
        min_value=0,
        max_value=999_999,
        required=False,
        help_text="Seed of the variants (the same seed and set give the same report); "
        "random when left out.",
    )


class RobustnessReportSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    current = serializers.SerializerMethodField(
        help_text="Whether the set's terms and options are still those the report judged."
    )
    result = serializers.JSONField(
        read_only=True,
        help_text="The report: `operators` and `pairs` (recall, escaped variants, whether the "
        "set's options are expected to catch them), `benign` (false hits in both modes), "
        "`variants_per_second`. Null until it finished.",
    )

    class Meta:
        model = KeywordRobustnessReport
        fields = [
            "id",
            "keyword_set",
            "status",
            "seed",
            "policy_revision",
            "current",
            "result",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_current(self, report) -> bool:
        return robustness_is_current(report, report.keyword_set)
