"""The alert rule form: common fields, then the parameters of the chosen kind."""

from copy import deepcopy

from django import forms
from django.utils.text import capfirst

from moderation.analysis.metrics import OUTCOMES, outcome_label
from moderation.models import AlertRule
from moderation.services.alert_evaluators import CATEGORY_PREFIX
from policy_admin.selectors.catalogue import category_choices


def outcome_choices() -> list[tuple[str, str]]:
    """The final action's outcomes, then one entry per catalogue category."""
    return [
        *((name, capfirst(outcome_label(name))) for name in OUTCOMES),
        *((f"{CATEGORY_PREFIX}{id_}", f"Category: {name}") for id_, name in category_choices()),
    ]


# Parameters per kind: (name, form field). Stored in AlertRule.params.
KIND_PARAMS = {
    AlertRule.Kind.METRIC_BELOW: [
        ("policy", forms.SlugField(label="Policy (slug)")),
        ("sample_set", forms.CharField(label="Sample set (name)", max_length=200)),
        (
            "metric",
            forms.ChoiceField(
                choices=[("precision", "Precision"), ("recall", "Recall"), ("f1", "F1")]
            ),
        ),
        ("outcome", forms.ChoiceField(label="For", choices=outcome_choices)),
        ("minimum", forms.FloatField(min_value=0, max_value=1, help_text="Fire below this.")),
    ],
    AlertRule.Kind.DRIFT: [
        ("policy", forms.SlugField(label="Policy (slug)")),
        (
            "baseline",
            forms.RegexField(
                label="Baseline suite",
                regex=r"^(previous|\d+)$",
                initial="previous",
                help_text="“previous”: each finished suite against the one before it; "
                "or the id of one suite run to compare every new suite with.",
                error_messages={"invalid": "Write “previous” or the number of a suite run."},
            ),
        ),
        ("psi", forms.FloatField(label="PSI above", min_value=0, initial=0.25)),
    ],
    AlertRule.Kind.FLEET: [
        ("policy", forms.SlugField(label="Policy (slug)")),
        ("channel", forms.SlugField(initial="production")),
        ("minutes", forms.IntegerField(label="For more than (minutes)", min_value=1, initial=10)),
    ],
}


class AlertRuleForm(forms.ModelForm):
    webhook_url = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = AlertRule
        fields = ["name", "kind", "enabled", "email_to", "webhook_url"]
        widgets = {"email_to": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, params in KIND_PARAMS.items():
            for name, field in params:
                copy = deepcopy(field)
                copy.required = False  # only the chosen kind's values are required, in clean()
                copy.initial = (self.instance.params or {}).get(name, field.initial)
                self.fields[f"{kind}__{name}"] = copy

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        params = {}
        for name, _ in KIND_PARAMS.get(kind, []):
            value = cleaned.get(f"{kind}__{name}")
            if value in (None, ""):
                self.add_error(f"{kind}__{name}", "This rule kind needs this value.")
            params[name] = value
        if not cleaned.get("email_to", "").strip() and not cleaned.get("webhook_url"):
            self.add_error("email_to", "Give at least one email address or a webhook URL.")
        cleaned["params"] = params
        return cleaned

    def param_fields(self, kind):
        return [self[f"{kind}__{name}"] for name, _ in KIND_PARAMS[kind]]
