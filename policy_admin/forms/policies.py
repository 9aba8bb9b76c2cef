"""Forms of the policy pages; they validate input and shape it for the services, nothing else."""

from django import forms

from moderation.engine.decision import Action
from moderation.engine.match_options import FOLDINGS, OPTION_NAMES, OPTION_SPECS, OptionSpec
from policy_admin.models import AppliesTo, ClipConcept, Policy, TextTarget
from policy_admin.models.rules import RULE_ACTIONS
from policy_admin.selectors import catalogue

LINES_HELP = "One per line."


def split_lines(text: str) -> list[str]:
    return text.splitlines()


class DraftForm(forms.Form):
    """A change to a draft; `revision` is the draft revision the page was rendered at.

    Not required here: a missing revision reaches the service, which refuses it
    with a sentence saying what to do.
    """

    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


def score_field(label: str, **kwargs) -> forms.FloatField:
    attrs = {"step": "0.01", "min": "0", "max": "1"}
    return forms.FloatField(
        label=label, min_value=0.0, max_value=1.0, widget=forms.NumberInput(attrs=attrs), **kwargs
    )


def check_review_below_block(form: forms.Form) -> None:
    review, block = form.cleaned_data.get("review_at"), form.cleaned_data.get("block_at")
    if review is not None and block is not None and review > block:
        form.add_error(
            "review_at",
            f"Review at {review:g} is above block at {block:g}: scores between them would be "
            "blocked before they are reviewed. Lower review or raise block.",
        )


class PolicyCreateForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(
        max_length=60,
        help_text="Lowercase letters, digits and dashes; used in URLs and the API.",
        widget=forms.TextInput(attrs={"data-suggest": "from-name"}),
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class PolicyDetailsForm(DraftForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    robustness_floor = forms.BooleanField(
        required=False,
        label="Robustness floor",
        help_text="Refuse to publish while a keyword set's latest robustness report catches "
        "under 99% of the variants of an evasion its options cover.",
    )
    failure_mode = forms.ChoiceField(
        choices=Policy.FailureMode.choices,
        required=False,
        help_text="What clients do when the moderation service cannot answer in time "
        "(timeout, overload). Published in the bundle; takes effect with the next version. "
        "Left out, it stays as it is.",
    )


class ThresholdForm(DraftForm):
    threshold = forms.IntegerField(widget=forms.HiddenInput, required=False)
    category = forms.ChoiceField(choices=catalogue.category_choices, widget=forms.HiddenInput)
    applies_to = forms.ChoiceField(choices=AppliesTo.choices)
    review_at = score_field("Review at")
    block_at = score_field("Block at")
    enabled = forms.BooleanField(required=False)

    def clean(self):
        cleaned = super().clean()
        check_review_below_block(self)
        return cleaned

    def service_fields(self) -> dict:
        keys = ("category", "applies_to", "review_at", "block_at", "enabled")
        return {key: self.cleaned_data[key] for key in keys}


def match_option_field(spec: OptionSpec) -> forms.Field:
    """The form field of one of the engine's match options, unbound forms showing its default."""
    if spec.choices:
        choices = list(spec.choices.items())
        return forms.ChoiceField(
            label=spec.label, choices=choices, initial=spec.default, widget=forms.RadioSelect
        )
    return forms.BooleanField(label=spec.label, required=False, initial=spec.default)


# A field per option of the engine's MatchOptions, named as the option.
MatchOptionsForm = type(
    "MatchOptionsForm", (forms.Form,), {s.name: match_option_field(s) for s in OPTION_SPECS}
)


class KeywordOptionsForm(MatchOptionsForm):
    """A keyword set's name, action and match options (tenant sets and floor sets alike)."""

    name = forms.CharField(max_length=120)
    action = forms.ChoiceField(choices=RULE_ACTIONS, initial=Action.BLOCK.value)
    allow_list = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Allow list",
        help_text="Phrases that never fire even when they contain a term. " + LINES_HELP,
    )
    languages = forms.CharField(max_length=120, required=False, help_text="e.g. en, de, ja")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    field_order = ["name", "action", *OPTION_NAMES]
    OPTION_KEYS = ("name", "action", *OPTION_NAMES, "languages", "notes")

    def service_fields(self) -> dict:
        fields = {key: self.cleaned_data[key] for key in self.OPTION_KEYS}
        fields["allow_list"] = split_lines(self.cleaned_data["allow_list"])
        return fields

    def choice_option_fields(self) -> list[forms.BoundField]:
        return [self[spec.name] for spec in OPTION_SPECS if spec.choices]

    def folding_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in FOLDINGS]


def text_target_field() -> forms.TypedChoiceField:
    # Not required: a form posted without it (older pages, scripts) reads prompts.
    return forms.TypedChoiceField(
        choices=TextTarget.choices,
        initial=TextTarget.PROMPT.value,
        required=False,
        empty_value=TextTarget.PROMPT.value,
        label="Applies to",
        help_text="Text in images is read by the OCR model; the bundle then pins it.",
    )


class KeywordSetForm(DraftForm, KeywordOptionsForm):
    applies_to = text_target_field()

    OPTION_KEYS = (*KeywordOptionsForm.OPTION_KEYS, "applies_to")


class KeywordTermsField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 8}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "One term per line; duplicates are removed and reported.")
        super().__init__(strip=False, **kwargs)


class KeywordSetCreateForm(KeywordSetForm):
    terms = KeywordTermsField(label="Terms")


class TermsImportForm(DraftForm):
    text = KeywordTermsField(label="Paste terms")
    file = forms.FileField(
        required=False,
        label="…or import a file",
        help_text="TXT with one term per line, or CSV (UTF-8).",
    )
    column = forms.CharField(
        max_length=120,
        required=False,
        label="CSV column",
        help_text="The header of the column that holds the terms; empty: the first column.",
    )
    replace = forms.TypedChoiceField(
        choices=[("", "Add to the set's terms"), ("1", "Replace all of the set's terms")],
        coerce=bool,
        empty_value=False,
        required=False,
        widget=forms.RadioSelect,
        initial="",
        label="Mode",
    )

    def clean(self):
        cleaned = super().clean()
        has_text = bool(cleaned.get("text", "").strip())
        if has_text == bool(cleaned.get("file")):
            self.add_error(
                "text", "Paste terms or choose a file: one of the two, not both or neither."
            )
        return cleaned


class EmbeddingSetForm(DraftForm):
    name = forms.CharField(max_length=120)
    action = forms.ChoiceField(choices=RULE_ACTIONS)
    threshold = score_field(
        "Similarity threshold",
        help_text="A prompt at least this similar to an example fires the rule (0 to 1).",
    )
    applies_to = text_target_field()
    examples = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Example phrases",
        help_text="Prompts this rule should catch. " + LINES_HELP,
    )
    counter_examples = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Close phrases it must not catch. " + LINES_HELP,
    )

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "action": data["action"],
            "threshold": data["threshold"],
            "applies_to": data["applies_to"],
            "examples": split_lines(data["examples"]),
            "counter_examples": split_lines(data["counter_examples"]),
        }


class ConceptForm(DraftForm):
    name = forms.CharField(max_length=120)
    action = forms.ChoiceField(choices=RULE_ACTIONS)
    method = forms.ChoiceField(choices=ClipConcept.Method.choices, widget=forms.RadioSelect)
    threshold = score_field("Threshold", help_text="Score at which the concept fires (0 to 1).")
    text_hints = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Short descriptions that help recognise the concept. " + LINES_HELP,
    )

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("revision", None)
        data["text_hints"] = split_lines(data["text_hints"])
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several files from one input; each is checked by the service, which names a bad one."""

    def __init__(self, **kwargs):
        attrs = {"accept": "image/png,image/jpeg,image/webp,image/gif", "multiple": True}
        kwargs.setdefault("widget", MultipleFileInput(attrs=attrs))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            raise forms.ValidationError("Choose at least one image to upload.", code="required")
        single = super()
        return [single.clean(f, initial) for f in files]


class ConceptImagesForm(DraftForm):
    images = MultipleImageField(label="Example images")
    positive = forms.TypedChoiceField(
        choices=[("1", "Positive examples"), ("", "Negative examples")],
        coerce=bool,
        empty_value=False,
        initial="1",
        required=False,
        widget=forms.RadioSelect,
        label="Add as",
    )


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(required=False, label="User")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actors: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", "Everyone"), *((a, a) for a in actors)]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", f"“Until” ({until}) is before “since” ({since}); swap them.")
        return cleaned


class FloorCategoryForm(forms.Form):
    category = forms.ChoiceField(choices=catalogue.category_choices)
    applies_to = forms.ChoiceField(choices=AppliesTo.choices, initial=AppliesTo.BOTH)
    review_at = score_field("Review at most at")
    block_at = score_field("Block at most at")

    def clean(self):
        cleaned = super().clean()
        check_review_below_block(self)
        return cleaned


class FloorKeywordSetForm(KeywordOptionsForm):
    terms = KeywordTermsField(
        label="Terms", help_text="One term per line; saving replaces the set's terms."
    )
