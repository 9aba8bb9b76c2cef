"""Keyword sets, their terms upload and terms pages."""

from rest_framework import serializers

from moderation.engine.decision import Action
from moderation.engine.match_options import OPTION_NAMES, OPTION_SPECS, OptionSpec
from policy_admin.api.common import FormBooleanField, PolicyRevisionField, RevisionField
from policy_admin.api.serializers.rules import RULE_FIELDS, phrase_list, text_target_field
from policy_admin.models import KeywordRuleSet
from policy_admin.models.rules import RULE_ACTIONS
from policy_admin.services.terms import MAX_TERMS_FILE_BYTES, MAX_TERMS_PER_SET


def match_option_field(spec: OptionSpec) -> serializers.Field:
    """The API field of one of the engine's match options, defaulting as the engine does."""
    if spec.choices:
        choices = list(spec.choices.items())
        return serializers.ChoiceField(choices=choices, default=spec.default, help_text=spec.help)
    return serializers.BooleanField(default=spec.default, help_text=spec.help)


# A field per option of the engine's MatchOptions, named as the option.
MatchOptionsSerializer = type(
    "MatchOptionsSerializer",
    (serializers.Serializer,),
    {spec.name: match_option_field(spec) for spec in OPTION_SPECS},
)


class KeywordSetSerializer(serializers.ModelSerializer):
    allow_list = serializers.ListField(
        child=serializers.CharField(), source="allow_list_terms", read_only=True
    )
    revision = PolicyRevisionField()

    class Meta:
        model = KeywordRuleSet
        fields = [
            "name",
            "action",
            "applies_to",
            *OPTION_NAMES,
            "allow_list",
            "languages",
            "notes",
            "term_count",
            *RULE_FIELDS,
        ]
        read_only_fields = fields


def term_list(**kwargs) -> serializers.ListField:
    child = serializers.CharField(allow_blank=True, trim_whitespace=False)
    return serializers.ListField(child=child, max_length=MAX_TERMS_PER_SET, **kwargs)


class KeywordSetInputSerializer(MatchOptionsSerializer):
    name = serializers.CharField(max_length=120)
    action = serializers.ChoiceField(choices=RULE_ACTIONS, default=Action.BLOCK.value)
    applies_to = text_target_field()
    allow_list = phrase_list(required=False)
    languages = serializers.CharField(max_length=120, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    terms = term_list(required=False, help_text="The set's terms; on update they replace all.")
    revision = RevisionField()


class TermProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line of the file, or 1-based position in the list.")
    term = serializers.CharField()
    reason = serializers.CharField()


class TermDuplicateSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line of the file, or 1-based position in the list.")
    term = serializers.CharField(help_text="The term dropped.")
    kept = serializers.CharField(help_text="The term it reads as once folded, kept in the set.")


class TermsReportSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="New terms now in the set.")
    duplicates = serializers.IntegerField(help_text="Lines dropped as duplicates.")
    duplicate_terms = TermDuplicateSerializer(
        many=True, help_text="The first 200 duplicates, each with the term it reads as."
    )
    refused = serializers.IntegerField(help_text="Lines refused; `problems` lists the first 200.")
    problems = TermProblemSerializer(many=True)
    term_count = serializers.IntegerField(help_text="Terms in the set after the upload.")
    revision = PolicyRevisionField()


class KeywordSetWriteSerializer(KeywordSetSerializer):
    terms_report = TermsReportSerializer(read_only=True, allow_null=True, default=None)

    class Meta(KeywordSetSerializer.Meta):
        fields = [*KeywordSetSerializer.Meta.fields, "terms_report"]
        read_only_fields = fields


class TermsUploadSerializer(serializers.Serializer):
    terms = term_list(required=False, help_text="The terms as a JSON list (or send `file`).")
    file = serializers.FileField(
        required=False,
        help_text=f"A TXT file (one term per line) or a CSV file, UTF-8, at most "
        f"{MAX_TERMS_FILE_BYTES // 2**20} MB.",
    )
    column = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="For a CSV file: the header of the column holding the terms "
        "(empty: the first column, with no header row).",
    )
    replace = FormBooleanField(
        default=False, help_text="Replace the set's terms instead of adding to them."
    )
    revision = RevisionField()

    def validate(self, attrs):
        if ("terms" in attrs) == ("file" in attrs):
            raise serializers.ValidationError(
                {"terms": ["Send either `terms` (a list) or `file` (TXT or CSV), not both."]}
            )
        return attrs


class TermsSearchSerializer(serializers.Serializer):
    search = serializers.CharField(required=False, default="", allow_blank=True)


class TermPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Terms matching the search.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = serializers.ListField(child=serializers.CharField())
