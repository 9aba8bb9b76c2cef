"""The alert rule form: common fields, then the parameters of the chosen kind."""

from copy import deepcopy

from django import forms
from django.utils.text import capfirst

from moderation.analysis.metrics import OUTCOMES, outcome_label
from moderation.models import AlertRule, SampleSet
from moderation.services.alert_evaluators import CATEGORY_PREFIX
from policy_admin.models import Policy
from policy_admin.selectors.catalogue import category_choices
from tenants.scoping import scoped


def outcome_choices() -> list[tuple[str, str]]:
    """The final action's outcomes, then one entry per catalogue category."""
    return [
        *((name, capfirst(outcome_label(name))) for name in OUTCOMES),
        *((f"{CATEGORY_PREFIX}{id_}", f"Category: {name}") for id_, name in category_choices()),
    ]


# Parameters per kind: (name, form field). Stored in AlertRule.params.
KIND_PARAMS = {
    AlertRule.Kind.METRIC_BELOW: [
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
        (
            "against",
            forms.ChoiceField(
                label="Compare with the baseline",
                choices=[
                    ("suite", "each new finished suite"),
                    ("production", "production: the last day of audited decisions"),
                ],
                initial="suite",
                help_text="Production is checked every minute; with “previous”, its baseline "
                "is the newest finished suite.",
            ),
        ),
    ],
    AlertRule.Kind.FLEET: [
        ("channel", forms.SlugField(initial="production")),
        ("minutes", forms.IntegerField(label="For more than (minutes)", min_value=1, initial=10)),
    ],
    AlertRule.Kind.REVIEW_BACKLOG: [
        (
            "minutes",
            forms.IntegerField(
                label="Oldest item waiting more than (minutes)", min_value=1, initial=60
            ),
        ),
    ],
    AlertRule.Kind.PRODUCTION_PRECISION: [
        (
            "outcome",
            forms.ChoiceField(
                label="For",
                choices=[(name, capfirst(outcome_label(name))) for name in OUTCOMES],
            ),
        ),
        ("minimum", forms.FloatField(min_value=0, max_value=1, help_text="Fire below this.")),
        (
            "days",
            forms.IntegerField(
                label="Audit labels of the last (days)", min_value=1, max_value=90, initial=7
            ),
        ),
        (
            "min_labels",
            forms.IntegerField(
                label="Judge once this many audit labels exist",
                min_value=1,
                initial=30,
                help_text="Fewer labelled audit decisions leave the rule as it is.",
            ),
        ),
    ],
    AlertRule.Kind.SHADOW_GUARD: [
        (
            "hours",
            forms.IntegerField(
                label="Firing for (hours) after a guard stopped a shadow",
                min_value=1,
                max_value=24 * 7,
                initial=24,
            ),
        ),
    ],
}


# Parameters a form may leave out (rules saved before the parameter existed, API clients).
PARAM_DEFAULTS = {(AlertRule.Kind.DRIFT, "against"): "suite"}


# Rule columns that only some kinds use; they are shown with those kinds' parameters.
KIND_RELATIONS = {AlertRule.Kind.METRIC_BELOW: ["sample_set"]}


class AlertRuleForm(forms.ModelForm):
    """A rule of `tenant`: its policy and sample set are chosen among the tenant's own only."""

    webhook_url = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = AlertRule
        fields = ["name", "kind", "policy", "sample_set", "enabled", "email_to", "webhook_url"]
        widgets = {"email_to": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.tenant = tenant
        policy, sample_set = self.fields["policy"], self.fields["sample_set"]
        policy.queryset = scoped(Policy, tenant).order_by("name")
        policy.required = True  # every kind watches a policy
        policy.error_messages["invalid_choice"] = f"Choose one of {tenant.name}'s policies."
        sample_set.queryset = scoped(SampleSet, tenant).order_by("name")
        sample_set.error_messages["invalid_choice"] = f"Choose one of {tenant.name}'s sample sets."
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
                value = PARAM_DEFAULTS.get((kind, name), value)
            if value in (None, ""):
                self.add_error(f"{kind}__{name}", "This rule kind needs this value.")
            params[name] = value
        if kind == AlertRule.Kind.METRIC_BELOW and not cleaned.get("sample_set"):
            self.add_error("sample_set", "This rule kind needs this value.")
        if kind not in KIND_RELATIONS:
            cleaned["sample_set"] = None  # the hidden metric fields may still have posted one
        if not cleaned.get("email_to", "").strip() and not cleaned.get("webhook_url"):
            self.add_error("email_to", "Give at least one email address or a webhook URL.")
        cleaned["params"] = params
        return cleaned

    def common_fields(self):
        by_kind = {name for names in KIND_RELATIONS.values() for name in names}
        return [self[name] for name in self.Meta.fields if name not in by_kind]

    def param_fields(self, kind):
        return [self[name] for name in KIND_RELATIONS.get(kind, [])] + [
            self[f"{kind}__{name}"] for name, _ in KIND_PARAMS[kind]
        ]
