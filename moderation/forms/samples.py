"""Forms of the sample set pages; they parse input for the services, which judge the labels."""

from django import forms

from moderation.forms.fields import CommaListField, QueryForm, UploadField


class SampleSetForm(forms.Form):
    """A sample set's name and description (the service refuses an empty or taken name)."""

    name = forms.CharField(required=False)
    description = forms.CharField(required=False)


class LabelsForm(forms.Form):
    """What a sample is expected to get: an action, categories and tags (comma-separated)."""

    expected_action = forms.CharField(required=False)
    expected_categories = CommaListField()
    tags = CommaListField()


class SampleAddForm(LabelsForm):
    """One sample typed on the set page: a prompt and/or an image, its labels, an optional id."""

    external_id = forms.CharField(required=False)
    prompt = forms.CharField(required=False, strip=False)
    image = UploadField()
    notes = forms.CharField(required=False, strip=False)


class SampleImportForm(forms.Form):
    """An archive (zip) or a bare CSV/JSONL manifest to import into a set."""

    archive = UploadField(
        required=True,
        error_messages={"required": "Choose a zip archive or a CSV/JSONL manifest to import."},
    )


class SampleFilterForm(QueryForm):
    """The set page's query: a tag and a label to narrow to (or one sample's id), the page, a
    just-run import's id."""

    tag = forms.CharField(required=False)
    sample = forms.IntegerField(required=False, min_value=1)
    label = forms.CharField(required=False)
    page = forms.CharField(required=False)  # the paginator reads any value, a wrong one as page 1

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["import"] = forms.IntegerField(required=False, min_value=1)
