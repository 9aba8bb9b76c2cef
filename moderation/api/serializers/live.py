"""Serializers for live tests: explicit fields, no business logic."""

from rest_framework import serializers

from moderation.models import TestRun, TestRunImage
from moderation.services.lifecycle import run_unclaimed
from moderation.services.runs import MAX_LIVE_IMAGES, MAX_PROMPT_CHARS


def version_field() -> serializers.IntegerField:
    """The optional choice of a published version a run judges with (the draft without it)."""
    return serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of one of the policy's published versions to judge with; omitted: the draft.",
    )


class LiveTestStartSerializer(serializers.Serializer):
    policy = serializers.SlugField(help_text="Slug of the policy that is tested.")
    version = version_field()
    prompt = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MAX_PROMPT_CHARS,
        trim_whitespace=False,
    )
    images = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=MAX_LIVE_IMAGES,
        help_text="Images to judge (multipart); each is judged together with the prompt.",
    )


class LiveTestSampleSerializer(serializers.Serializer):
    sample_set = serializers.IntegerField(help_text="Id of the tenant's sample set to add to.")
    input = serializers.IntegerField(
        min_value=0, default=0, help_text="Which judged input (0-based, one per image)."
    )
    expected_action = serializers.CharField(help_text="allow, flag, review or block.")
    expected_categories = serializers.ListField(child=serializers.CharField(), default=list)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), default=list)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class TestRunImageSerializer(serializers.ModelSerializer):
    url = serializers.FileField(source="image", read_only=True)

    class Meta:
        model = TestRunImage
        fields = ["original_name", "sha256", "width", "height", "url"]
        read_only_fields = fields


class TestRunSerializer(serializers.ModelSerializer):
    policy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    images = TestRunImageSerializer(many=True, read_only=True)
    unclaimed = serializers.SerializerMethodField(
        help_text="True while queued longer than a worker normally takes to pick a test up."
    )

    class Meta:
        model = TestRun
        fields = [
            "id",
            "policy",
            "kind",
            "status",
            "prompt",
            "images",
            "policy_revision",
            "version_number",
            "rerun_of",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "attempts",
            "worker",
            "bundle_sha256",
            "result",
            "error",
            "unclaimed",
        ]
        read_only_fields = fields

    def get_unclaimed(self, run) -> bool:
        return run_unclaimed(run)
