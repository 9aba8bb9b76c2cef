"""Forms of the review pages: queue settings, routing rules, answers, export."""

from django import forms

from moderation.engine.decision import ACTIONS
from moderation.models import ReviewQueue, RoutingRule, SampleSet
from policy_admin.selectors.catalogue import category_choices
from tenants.scoping import scoped

ACTION_CHOICES = [(a, a.capitalize()) for a in ACTIONS]


class ReviewQueueForm(forms.ModelForm):
    class Meta:
        model = ReviewQueue
        fields = ["name", "slug", "order", "lease_seconds", "overlap_share", "overlap_k"]
        widgets = {"overlap_share": forms.NumberInput(attrs={"step": "0.05", "min": 0, "max": 1})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["slug"]

    def validate_unique(self):
        """Uniqueness is the service's to check, with its message."""


class RoutingRuleForm(forms.ModelForm):
    action = forms.ChoiceField(choices=[("", "any")] + ACTION_CHOICES, required=False)
    category = forms.ChoiceField(required=False)

    class Meta:
        model = RoutingRule
        fields = [
            "queue",
            "action",
            "rule_id",
            "category",
            "score_min",
            "score_max",
            "channel",
            "reason",
        ]
        labels = {"rule_id": "Rule fired", "reason": "Kept because"}

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = scoped(ReviewQueue, tenant)
        self.fields["category"].choices = [("", "any"), *category_choices()]

    def validate_unique(self):
        """Nothing unique; the rule's sense is the service's to check."""


class ReviewAnswerForm(forms.Form):
    action = forms.ChoiceField(choices=ACTION_CHOICES)
    categories = forms.MultipleChoiceField(required=False)
    seconds = forms.FloatField(required=False, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = category_choices()


class ReviewRelabelForm(ReviewAnswerForm):
    seconds = None


class ReviewExportForm(forms.Form):
    sample_set = forms.ModelChoiceField(queryset=SampleSet.objects.none())
    rule_id = forms.CharField(
        required=False, max_length=200, help_text="Only items where this rule fired; blank for all."
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sample_set"].queryset = scoped(SampleSet, tenant).order_by("name")
