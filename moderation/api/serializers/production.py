"""Serializers of a policy's production figures, as the quality page's Production section."""

from rest_framework import serializers

from moderation.selectors import production

DAYS_HELP = f"How many days of decisions, 1 to {production.MAX_DAYS}."


class ProductionQuerySerializer(serializers.Serializer):
    """The window of decisions; estimates always pool the last ESTIMATE_DAYS of audits."""

    days = serializers.IntegerField(
        min_value=1,
        max_value=production.MAX_DAYS,
        required=False,
        default=production.DEFAULT_DAYS,
        help_text=f"{DAYS_HELP} Default {production.DEFAULT_DAYS}.",
        error_messages={
            "invalid": f"Pass a whole number of days. {DAYS_HELP}",
            "min_value": DAYS_HELP,
            "max_value": DAYS_HELP,
        },
    )
    bucket = serializers.ChoiceField(
        choices=list(production.BUCKETS),
        required=False,
        help_text="hour or day; default hour up to two days, else day.",
        error_messages={"invalid_choice": "Pass bucket=hour or bucket=day."},
    )


class ActionBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Start of the hour or day (UTC).")
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Decisions per action in the bucket."
    )


class ChannelVersionSerializer(serializers.Serializer):
    channel = serializers.CharField()
    version = serializers.IntegerField(source="version_number")
    total = serializers.IntegerField()
    actions = serializers.DictField(child=serializers.IntegerField())
    review_share = serializers.FloatField(help_text="Share of the decisions that were `review`.")


class BacklogSerializer(serializers.Serializer):
    open_items = serializers.IntegerField(help_text="Review items waiting for labels.")
    oldest_at = serializers.DateTimeField(allow_null=True)
    oldest_minutes = serializers.FloatField(allow_null=True, help_text="How long it has waited.")


class EstimateSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="null: no audited record yet.")
    low = serializers.FloatField(allow_null=True, help_text="95% Wilson-Kish interval.")
    high = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField(help_text="Labelled audit records in the denominator.")
    n_effective = serializers.FloatField(help_text="Kish's effective sample size of those.")


class OutcomeEstimateSerializer(serializers.Serializer):
    precision = EstimateSerializer()
    recall = EstimateSerializer()


class EstimatesSerializer(serializers.Serializer):
    block = OutcomeEstimateSerializer()
    flag_or_worse = OutcomeEstimateSerializer()


class ProductionSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    bucket = serializers.CharField(source="series.bucket")
    decisions = serializers.SerializerMethodField()
    total = serializers.IntegerField()
    review_share = serializers.FloatField()
    channels = ChannelVersionSerializer(many=True)
    backlog = BacklogSerializer()
    estimates_since = serializers.DateTimeField()
    estimates = EstimatesSerializer()
    note = serializers.CharField(help_text="Why only the audit stratum is counted.")

    def get_decisions(self, figures) -> list[dict]:
        series = figures.series
        return ActionBucketSerializer(
            [
                {"start": start, "counts": {a: c[i] for a, c in series.counts.items()}}
                for i, start in enumerate(series.starts)
            ],
            many=True,
        ).data
