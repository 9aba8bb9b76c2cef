"""Serializers of the review API: queues, claims, answers, labels, export. No business logic."""

import base64

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation.engine.decision import ACTIONS
from moderation.models import DecisionRecord, ReviewClaim, ReviewLabel, ReviewQueue, Sample
from policy_admin.selectors.catalogue import category_choices


class ReviewQueueSerializer(serializers.ModelSerializer):
    backlog = serializers.IntegerField(read_only=True, help_text="Items waiting for labels.")
    oldest = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the oldest waiting item was queued."
    )
    labelled = serializers.IntegerField(read_only=True, help_text="Items fully labelled.")

    class Meta:
        model = ReviewQueue
        fields = [
            "id", "name", "slug", "is_default", "order", "lease_seconds", "overlap_share",
            "overlap_k", "backlog", "oldest", "labelled",
        ]  # fmt: skip
        read_only_fields = fields


class ReviewRecordSerializer(serializers.ModelSerializer):
    """What a reviewer sees before answering: no decision and no rule results."""

    thumbnail_jpeg = serializers.SerializerMethodField(
        help_text="The image as a base64 JPEG thumbnail, or null without one."
    )

    class Meta:
        model = DecisionRecord
        fields = ["id", "request_id", "decided_at", "channel", "prompt", "thumbnail_jpeg"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail_jpeg(self, record) -> str | None:
        return base64.b64encode(bytes(record.thumbnail)).decode() if record.thumbnail else None


class ReviewSampleSerializer(serializers.ModelSerializer):
    """A sample sent for relabelling, as a reviewer sees it: no labels."""

    class Meta:
        model = Sample
        fields = ["id", "external_id", "sample_set", "prompt"]
        read_only_fields = fields


class ReviewClaimSerializer(serializers.ModelSerializer):
    record = ReviewRecordSerializer(
        source="item.record", read_only=True, allow_null=True, help_text="Null on a sample item."
    )
    sample = ReviewSampleSerializer(
        source="item.sample", read_only=True, allow_null=True, help_text="Null on a record item."
    )

    class Meta:
        model = ReviewClaim
        fields = ["id", "item", "claimed_at", "lease_expires_at", "record", "sample"]
        read_only_fields = fields


class ReviewAnswerInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ACTIONS)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=[c for c, _ in category_choices()]),
        required=False,
        default=list,
    )
    seconds = serializers.FloatField(
        min_value=0, required=False, default=0.0, help_text="Time spent on the item."
    )


class ReviewLabelSerializer(serializers.ModelSerializer):
    queue = serializers.SlugRelatedField(source="item.queue", slug_field="slug", read_only=True)
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ReviewLabel
        fields = [
            "id", "item", "record", "queue", "reviewer", "action", "categories", "seconds",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ReviewExplanationSerializer(serializers.ModelSerializer):
    """How the policy decided the record: shown only once the reviewer has answered."""

    class Meta:
        model = DecisionRecord
        fields = ["id", "action", "reasons", "rules", "scores"]
        read_only_fields = fields


class ReviewAnswerSerializer(serializers.Serializer):
    label = ReviewLabelSerializer()
    explanation = ReviewExplanationSerializer(allow_null=True, help_text="Null on a sample item.")


class ReviewExportInputSerializer(serializers.Serializer):
    sample_set = serializers.IntegerField(help_text="The id of one of the tenant's sample sets.")
    rule_id = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Only items where it fired."
    )
