"""Forms of the live test console; they parse input for the services, nothing else."""

from django import forms

from moderation.forms.fields import ObjectIdField, QueryForm, UploadsField
from moderation.forms.samples import LabelsForm


class LiveTestForm(forms.Form):
    """A live test: a prompt and/or images, judged by the draft or by version `version`."""

    prompt = forms.CharField(required=False, strip=False)
    images = UploadsField()
    version = ObjectIdField()


class LiveSampleForm(LabelsForm):
    """One judged input of a live test (`input`, 0-based) copied, labelled, into a sample set."""

    sample_set = ObjectIdField(
        required=True, error_messages={"required": "Choose the sample set to add the input to."}
    )
    input = forms.IntegerField(
        required=False,
        min_value=0,
        error_messages={
            "invalid": "Say which input to add by its number.",
            "min_value": "Say which input to add by its number.",
        },
    )
    notes = forms.CharField(required=False, strip=False)


class ConsoleForm(QueryForm):
    """The console's query: which run of its history to show (the newest without one)."""

    run = forms.IntegerField(required=False)
