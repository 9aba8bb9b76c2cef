"""The conditional rule form: the prompt signal, and image thresholds one line per category."""

from django import forms

from policy_admin.forms.policies import DraftForm, score_field
from policy_admin.models import ConditionalRule, EmbeddingRuleSet, KeywordRuleSet
from policy_admin.selectors import catalogue
from tenants.scoping import scoped

THRESHOLDS_HELP = (
    "One line per image category: the category, its review score and its block score, "
    "e.g. “sexual 0.2 0.4”. They replace the policy's image thresholds for the request."
)


def parse_threshold_lines(text: str) -> tuple[list[dict], list[str]]:
    """`category review block` lines as rows, and a sentence per line that is not one."""
    rows, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        try:
            category, review, block = parts[0], float(parts[1]), float(parts[2])
            if len(parts) != 3:
                raise ValueError
        except (IndexError, ValueError):
            problems.append(
                f"Line {number} (“{line.strip()}”): write a category, a review score and a "
                "block score, e.g. “sexual 0.2 0.4”."
            )
            continue
        rows.append({"category": category, "review_at": review, "block_at": block})
    return rows, problems


class ConditionForm(DraftForm):
    name = forms.CharField(max_length=120)
    when = forms.ChoiceField(
        choices=ConditionalRule.When.choices, widget=forms.RadioSelect, label="When"
    )
    keyword_set = forms.ModelChoiceField(
        queryset=KeywordRuleSet.objects.none(), required=False, help_text="For a keyword set."
    )
    embedding_set = forms.ModelChoiceField(
        queryset=EmbeddingRuleSet.objects.none(), required=False, help_text="For an embedding set."
    )
    category = forms.ChoiceField(choices=[], required=False, label="Prompt category")
    at_least = score_field(
        "Prompt score at least", required=False, help_text="For a category: the score to reach."
    )
    image_thresholds = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Then judge images with",
        help_text=THRESHOLDS_HELP,
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, policy, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this policy's sets are offered, and only they validate.
        for name, model in (("keyword_set", KeywordRuleSet), ("embedding_set", EmbeddingRuleSet)):
            self.fields[name].queryset = scoped(model, policy.tenant).filter(policy=policy)
        self.fields["category"].choices = [("", "—")] + [
            (c.id, c.name) for c in catalogue.categories() if c.applies_to != "image"
        ]

    def clean_image_thresholds(self):
        rows, problems = parse_threshold_lines(self.cleaned_data["image_thresholds"])
        if problems:
            raise forms.ValidationError(problems)
        return rows

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("revision", None)
        data["category"] = data["category"] or ""
        return data


def threshold_lines(rows: list[dict]) -> str:
    """Stored image thresholds as the form's lines."""
    return "\n".join(f"{r['category']} {r['review_at']:g} {r['block_at']:g}" for r in rows)
