"""Forms of the classifier pages: create or edit, train, use a version, compare two."""

from django import forms

from moderation.engine.decision import ACTIONS
from moderation.forms.fields import CommaListField, ObjectIdField, QueryForm
from policy_admin.forms.policies import DraftForm, score_field
from policy_admin.models import CustomClassifier
from policy_admin.models.rules import RULE_ACTIONS

ACTION_CHOICES = [(a, a) for a in ACTIONS]


class ClassifierForm(DraftForm):
    """A classifier's settings; each filter is expected actions, categories and tags."""

    name = forms.CharField(max_length=120)
    target = forms.ChoiceField(choices=CustomClassifier.Target.choices)
    positive_actions = forms.MultipleChoiceField(choices=ACTION_CHOICES, required=False)
    positive_categories = CommaListField()
    positive_tags = CommaListField()
    negative_actions = forms.MultipleChoiceField(choices=ACTION_CHOICES, required=False)
    negative_categories = CommaListField()
    negative_tags = CommaListField()
    threshold = score_field("Threshold", initial=0.5)
    target_precision = score_field("Target precision", initial=0.9)
    action = forms.ChoiceField(choices=RULE_ACTIONS)

    def service_fields(self) -> dict:
        """The cleaned values as the service takes them (filters as objects)."""
        data = dict(self.cleaned_data)
        data.pop("revision", None)
        for side, key in (("positive", "positives"), ("negative", "negatives")):
            data[key] = {
                part: data.pop(f"{side}_{part}") for part in ("actions", "categories", "tags")
            }
        return data


class TrainForm(forms.Form):
    """A training on the tenant's sample set `sample_set` (its id)."""

    sample_set = ObjectIdField(required=True)


class SendIssuesForm(forms.Form):
    """Send version `version`'s likely label errors to the tenant's queue `queue` (its id;
    none: the default queue)."""

    version = forms.IntegerField(min_value=1)
    queue = ObjectIdField()


class UseVersionForm(DraftForm):
    """Use version `version` (its number) in the draft, optionally with a new threshold."""

    version = forms.IntegerField(min_value=1)
    threshold = score_field("Threshold", required=False)


class ClassifierPageForm(QueryForm):
    """The page's query: which version to show, which two to compare, or only a part."""

    show = forms.IntegerField(required=False, min_value=1)
    first = forms.IntegerField(required=False, min_value=1)
    second = forms.IntegerField(required=False, min_value=1)
    part = forms.CharField(required=False)
