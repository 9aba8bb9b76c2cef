"""Serializers for sample sets, samples and suite runs: explicit fields, no business logic."""

from rest_framework import serializers

from moderation.api.serializers.live import version_field
from moderation.engine.decision import ACTIONS
from moderation.models import Sample, SampleImport, SampleResult, SampleSet, TestRun


class SampleSetSerializer(serializers.ModelSerializer):
    sample_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = SampleSet
        fields = ["id", "name", "description", "sample_count", "created_at"]
        read_only_fields = ["id", "sample_count", "created_at"]


class SampleSetImportSerializer(serializers.Serializer):
    archive = serializers.FileField(help_text="A zip with manifest.csv/jsonl, or a bare manifest.")


class SampleImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = SampleImport
        fields = ["id", "file_name", "imported", "errors", "created_at"]
        read_only_fields = fields


class SampleSerializer(serializers.ModelSerializer):
    image = serializers.FileField(read_only=True)

    class Meta:
        model = Sample
        fields = [
            "id", "external_id", "prompt", "image", "image_sha256", "expected_action",
            "expected_categories", "tags", "notes",
        ]  # fmt: skip
        read_only_fields = ["id", "external_id", "prompt", "image", "image_sha256", "notes"]


class SampleLabelsSerializer(serializers.Serializer):
    expected_action = serializers.ChoiceField(choices=ACTIONS)
    expected_categories = serializers.ListField(child=serializers.CharField(), default=list)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), default=list)


class SuiteStartSerializer(serializers.Serializer):
    sample_set = serializers.IntegerField(help_text="Id of the tenant's sample set.")
    policy = serializers.SlugField(help_text="Slug of the policy that is run.")
    version = version_field()


class SampleAddSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
    prompt = serializers.CharField(required=False, allow_blank=True, default="")
    image = serializers.FileField(required=False, allow_null=True, default=None)
    expected_action = serializers.CharField(help_text="allow, flag, review or block.")
    expected_categories = serializers.ListField(child=serializers.CharField(), default=list)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), default=list)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class SuiteRunSerializer(serializers.ModelSerializer):
    policy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    metrics = serializers.SerializerMethodField()

    class Meta:
        model = TestRun
        fields = [
            "id", "policy", "sample_set", "status", "policy_revision", "version_number",
            "progress_done",
            "progress_total", "created_by", "created_at", "started_at", "finished_at",
            "attempts", "worker", "bundle_sha256", "error", "metrics",
        ]  # fmt: skip
        read_only_fields = fields

    def get_metrics(self, run) -> dict:
        return (run.result or {}).get("metrics", {})


class SampleResultSerializer(serializers.ModelSerializer):
    sample = serializers.CharField(source="sample.external_id", read_only=True)
    expected_action = serializers.CharField(source="sample.expected_action", read_only=True)

    class Meta:
        model = SampleResult
        fields = ["id", "sample", "expected_action", "action", "timings_ms", "decision"]
        read_only_fields = fields
