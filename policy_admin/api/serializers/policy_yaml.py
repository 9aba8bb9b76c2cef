"""Policy as code over the API: the import input and its result."""

from rest_framework import serializers

from policy_admin.api.common import RevisionField
from policy_admin.policy_yaml.archive import MAX_ZIP_BYTES
from policy_admin.policy_yaml.document import MAX_YAML_BYTES


class PolicyImportSerializer(serializers.Serializer):
    yaml = serializers.FileField(
        required=False, help_text="The policy YAML file (or send `text`, or a raw YAML body)."
    )
    text = serializers.CharField(required=False, trim_whitespace=False, help_text="The YAML.")
    zip = serializers.FileField(
        required=False, help_text="Example images the YAML names by sha256, as a zip."
    )
    revision = RevisionField()

    def validate(self, attrs):
        if ("yaml" in attrs) == ("text" in attrs):
            raise serializers.ValidationError(
                {"yaml": ["Send the policy YAML once: a `yaml` file, a `text` field or the body."]}
            )
        for key, limit in (("yaml", MAX_YAML_BYTES), ("zip", MAX_ZIP_BYTES)):
            if key in attrs and attrs[key].size > limit:
                raise serializers.ValidationError(
                    {key: [f"{attrs[key].name} is larger than {limit // 2**20} MB."]}
                )
        return attrs


class ImportCountsSerializer(serializers.Serializer):
    thresholds = serializers.IntegerField()
    keywords = serializers.IntegerField(help_text="Keyword sets.")
    embeddings = serializers.IntegerField(help_text="Embedding sets.")
    concepts = serializers.IntegerField()
    terms = serializers.IntegerField()
    images = serializers.IntegerField()


class PolicyImportResultSerializer(serializers.Serializer):
    revision = serializers.IntegerField(source="policy.revision")
    summary = serializers.CharField()
    counts = ImportCountsSerializer()


class ImportProblemSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="Where: rules.keywords[2].terms[17], or zip:<name>.")
    message = serializers.CharField()


class ImportProblemsSerializer(serializers.Serializer):
    problems = ImportProblemSerializer(many=True)


class ImportRefusedSerializer(serializers.Serializer):
    message = serializers.CharField()
    extra = ImportProblemsSerializer()
