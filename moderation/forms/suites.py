"""Forms of the suite pages: start a suite, page through its results, compare it."""

from django import forms

from moderation.forms.fields import ObjectIdField, QueryForm
from moderation.selectors.runs import OUTCOMES


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
