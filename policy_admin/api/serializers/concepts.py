"""CLIP concepts and their example images."""

from rest_framework import serializers

from kernel.uploads import MAX_IMAGE_BYTES
from policy_admin.api.common import FormBooleanField, PolicyRevisionField, RevisionField
from policy_admin.api.serializers.rules import RULE_FIELDS, phrase_list
from policy_admin.models import ClipConcept, ConceptImage
from policy_admin.models.rules import RULE_ACTIONS
from policy_admin.services.concepts import MAX_IMAGES_PER_UPLOAD


class ConceptImageSerializer(serializers.ModelSerializer):
    url = serializers.FileField(source="image", read_only=True, use_url=True)

    class Meta:
        model = ConceptImage
        fields = ["id", "original_name", "sha256", "positive", "width", "height", "url"]
        read_only_fields = fields


class ConceptSerializer(serializers.ModelSerializer):
    images = ConceptImageSerializer(many=True, read_only=True)
    revision = PolicyRevisionField()

    class Meta:
        model = ClipConcept
        fields = ["name", "action", "method", "threshold", "text_hints", "images", *RULE_FIELDS]
        read_only_fields = fields


class ConceptInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    action = serializers.ChoiceField(choices=RULE_ACTIONS, default="review")
    method = serializers.ChoiceField(
        choices=ClipConcept.Method.choices, default=ClipConcept.Method.PROTOTYPE
    )
    threshold = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.5)
    text_hints = phrase_list(required=False, default=list)
    revision = RevisionField()


class ImagesUploadSerializer(serializers.Serializer):
    images = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        max_length=MAX_IMAGES_PER_UPLOAD,
        help_text=f"Up to {MAX_IMAGES_PER_UPLOAD} images (PNG, JPEG, WebP, ...), "
        f"each at most {MAX_IMAGE_BYTES // 2**20} MB.",
    )
    positive = FormBooleanField(default=True, help_text="False adds negative examples.")
    revision = RevisionField()

    def validate_images(self, files):
        too_big = [f.name for f in files if f.size > MAX_IMAGE_BYTES]
        if too_big:
            raise serializers.ValidationError(
                f"{', '.join(too_big)}: larger than {MAX_IMAGE_BYTES // 2**20} MB; "
                "nothing was uploaded. Resize or compress the image(s)."
            )
        return files


class ImagesAddedSerializer(serializers.Serializer):
    images = ConceptImageSerializer(many=True)
    revision = PolicyRevisionField()


class ImageUpdateSerializer(serializers.Serializer):
    positive = serializers.BooleanField()
    revision = RevisionField()
