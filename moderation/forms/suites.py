"""Forms of the suite pages: start, results, compare, tune and apply a threshold."""

from django import forms

from moderation.forms.fields import ObjectIdField, QueryForm
from moderation.selectors.runs import OUTCOMES

THRESHOLD_HELP = "The threshold must be a number between 0 and 1."
RELOAD = "The page did not say which revision of the draft it showed; reload it and apply again."


class SuiteStartForm(forms.Form):
    """A suite of policy `policy` (its slug), judged by its draft or by version `version`."""

    policy = forms.CharField(required=False)
    version = ObjectIdField()


class SuiteResultsForm(QueryForm):
    """The suite page's query: which results to list, their page, or only the progress part."""

    show = forms.ChoiceField(choices=[("", "All"), *OUTCOMES.items()], required=False)
    page = forms.CharField(required=False)  # the paginator reads any value, a wrong one as page 1
    part = forms.CharField(required=False)


class SuiteCompareForm(forms.Form):
    """The compare page's query: `with`, the suite to compare with (its impact baseline without)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["with"] = ObjectIdField()  # `with` is the query's name, and a Python keyword


class TuneForm(QueryForm):
    """The tuning page's query: the rule, and the precision or recall the threshold must reach."""

    DEFAULTS = {"target": "precision", "value": 0.9}

    rule = forms.CharField(required=False)
    target = forms.CharField(required=False)
    value = forms.FloatField(
        required=False, error_messages={"invalid": "The target must be a number."}
    )

    def typed(self, name: str) -> str:
        """What the page shows in field `name`: what was typed, or else the default."""
        raw = self[name].value()
        return raw if raw not in (None, "") else str(self.DEFAULTS.get(name, ""))


class ThresholdApplyForm(forms.Form):
    """A tuned threshold written into the draft; `revision`: the draft revision the page showed."""

    revision = forms.IntegerField(
        min_value=1, error_messages={"required": RELOAD, "invalid": RELOAD, "min_value": RELOAD}
    )
    rule = forms.CharField(required=False)
    level = forms.CharField(required=False)
    value = forms.FloatField(error_messages={"required": THRESHOLD_HELP, "invalid": THRESHOLD_HELP})
