"""Serializers of a policy's quality and score drift: what the quality pages show, typed."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation.models import TestRun
from moderation.selectors import quality

RUN_ID_HELP = "Id of one of the policy's finished suite runs (GET .../quality/ lists them)."


class RunRefSerializer(serializers.ModelSerializer):
    """A finished suite, and what it evaluated."""

    evaluated = serializers.SerializerMethodField(
        help_text='"v<number>" for a published version, "draft r<revision>" for the draft.'
    )

    class Meta:
        model = TestRun
        fields = [
            "id",
            "sample_set",
            "finished_at",
            "policy_revision",
            "version_number",
            "evaluated",
        ]
        read_only_fields = fields

    def get_evaluated(self, run) -> str:
        return f"v{run.version_number}" if run.version_number else f"draft r{run.policy_revision}"


class OutcomeMetricsSerializer(serializers.Serializer):
    """One yes/no question of the final action; null where the run stored no metrics."""

    precision = serializers.FloatField(allow_null=True)
    recall = serializers.FloatField(allow_null=True)
    f1 = serializers.FloatField(allow_null=True)
    support = serializers.IntegerField(
        allow_null=True, help_text="Samples whose expected action answers yes."
    )


class StageLatencySerializer(serializers.Serializer):
    p50 = serializers.FloatField(help_text="Median milliseconds per sample.")
    p95 = serializers.FloatField(help_text="95th percentile milliseconds per sample.")


def _outcome(run: TestRun, outcome: str) -> dict:
    stored = quality.action_metrics(run).get(outcome, {})
    return {field: stored.get(field) for field in OutcomeMetricsSerializer._declared_fields}


class QualityRunSerializer(RunRefSerializer):
    """A finished suite's stored metrics: the page's table and latency rows."""

    block = serializers.SerializerMethodField()
    flag_or_worse = serializers.SerializerMethodField()
    latency_ms = serializers.SerializerMethodField()

    class Meta(RunRefSerializer.Meta):
        fields = [*RunRefSerializer.Meta.fields, "block", "flag_or_worse", "latency_ms"]
        read_only_fields = fields

    @extend_schema_field(OutcomeMetricsSerializer)
    def get_block(self, run) -> dict:
        return _outcome(run, "block")

    @extend_schema_field(OutcomeMetricsSerializer)
    def get_flag_or_worse(self, run) -> dict:
        return _outcome(run, "flag_or_worse")

    @extend_schema_field(serializers.DictField(child=StageLatencySerializer()))
    def get_latency_ms(self, run) -> dict:
        return quality.latency_metrics(run)


class SampleSetRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SetQualitySerializer(serializers.Serializer):
    sample_set = SampleSetRefSerializer()
    runs = QualityRunSerializer(many=True, help_text="Finished suites on the set, oldest first.")


class ChannelHealthSerializer(serializers.Serializer):
    """A channel's servers counted as the rollout page counts them."""

    name = serializers.CharField(source="channel.name")
    version = serializers.IntegerField(
        source="channel.version.number", allow_null=True, help_text="null: points nowhere yet."
    )
    servers = serializers.IntegerField(source="summary.servers")
    current = serializers.IntegerField(source="summary.current")
    behind = serializers.IntegerField(source="summary.behind")
    rejecting = serializers.IntegerField(source="summary.rejecting")
    stale = serializers.IntegerField(source="summary.stale")
    healthy = serializers.BooleanField(
        source="summary.healthy", help_text="Every server runs the channel's version."
    )


class PolicyQualitySerializer(serializers.Serializer):
    sample_sets = SetQualitySerializer(source="sets", many=True)
    channels = ChannelHealthSerializer(many=True)


class DriftQuerySerializer(serializers.Serializer):
    """Which two sides to compare; every one optional, defaulting as the drift page does."""

    baseline = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=f"{RUN_ID_HELP} Omitted: the suite before `current` (same set when possible).",
        error_messages={"invalid": f"Pass a whole number. {RUN_ID_HELP}"},
    )
    current = serializers.RegexField(
        r"^(\d+|live)$",
        required=False,
        help_text=f"{RUN_ID_HELP} Or `live`: the last `window` live tests. Omitted: the newest.",
        error_messages={"invalid": f"Pass `live` or a whole number. {RUN_ID_HELP}"},
    )
    window = serializers.IntegerField(
        min_value=1,
        max_value=quality.MAX_WINDOW,
        required=False,
        help_text=f"With current=live: how many live tests (default {quality.LIVE_WINDOW}).",
        error_messages={"invalid": "Pass a whole number of live tests, with current=live."},
    )

    def validate(self, data):
        live = data.get("current") == "live"
        if "window" in data and not live:
            raise serializers.ValidationError(
                {"window": ["`window` counts live tests: pass it with current=live."]}
            )
        current = data.get("current")
        return {
            "baseline_id": data.get("baseline"),
            "current_id": int(current) if current and not live else None,
            "window": data.get("window", quality.LIVE_WINDOW) if live else 0,
        }


class HistogramBinSerializer(serializers.Serializer):
    start = serializers.FloatField()
    end = serializers.FloatField()
    baseline_count = serializers.IntegerField()
    current_count = serializers.IntegerField()
    baseline_share = serializers.FloatField()
    current_share = serializers.FloatField()


class ScoreDriftSerializer(serializers.Serializer):
    name = serializers.CharField(help_text='"violence (prompt)", "concept: Firearm", ...')
    psi = serializers.FloatField(source="drift.psi")
    ks = serializers.FloatField(source="drift.ks")
    ks_pvalue = serializers.FloatField(source="drift.ks_pvalue")
    baseline_n = serializers.IntegerField(source="drift.baseline_n")
    current_n = serializers.IntegerField(source="drift.current_n")
    flagged = serializers.BooleanField(source="drift.flagged", help_text="PSI past psi_alert.")
    histogram = HistogramBinSerializer(
        many=True, help_text="Both sides' counts and shares per bin of [0, 1]."
    )


class DriftSerializer(serializers.Serializer):
    baseline = RunRefSerializer()
    current = RunRefSerializer(allow_null=True, help_text="null when comparing live tests.")
    live_runs = serializers.SerializerMethodField(
        help_text="Ids of the live tests pooled as the current side (empty for a suite)."
    )
    psi_alert = serializers.FloatField()
    scores = ScoreDriftSerializer(
        source="rows", many=True, help_text="Every score on both sides, the largest PSI first."
    )

    def get_live_runs(self, comparison) -> list[int]:
        return [run.pk for run in comparison.live_runs]
