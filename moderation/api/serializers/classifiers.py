"""Classifier trainings: explicit output fields; the input names a sample set by id."""

from rest_framework import serializers

from moderation.models import TrainingRun


class TrainingRunSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True, allow_null=True)
    metrics = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id", "classifier", "sample_set", "status", "stage", "progress_done",
            "progress_total", "reason", "skipped", "label_issues", "version", "metrics",
            "timings_s", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_metrics(self, run) -> dict | None:
        if run.version is None:
            return None
        return {k: v for k, v in run.version.metrics.items() if k != "oof_scores"}


class TrainingStartSerializer(serializers.Serializer):
    sample_set = serializers.IntegerField(help_text="Id of the tenant's sample set to train on.")
