"""What the scoring pages' forms share: ids that name objects, comma lists, uploads, queries."""

from django import forms

from kernel.http import int_or_404


class ObjectIdField(forms.Field):
    """The id of an object the request names; None when absent.

    A value that is not a number names nothing, so it is a 404 (raised while the
    form is validated), exactly like an id of another tenant's object.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value) -> int | None:
        if value in self.empty_values:
            return None
        return int_or_404(value)


class CommaListField(forms.CharField):
    """A comma-separated text as the list of its non-empty, trimmed parts."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        return [part.strip() for part in text.split(",") if part.strip()]


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadField(forms.Field):
    """An uploaded file as it came; the service decodes it and names it in its refusals."""

    widget = forms.FileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class UploadsField(UploadField):
    """Every file uploaded under one name, in order (none: an empty list)."""

    widget = _MultipleFileInput

    def to_python(self, value) -> list:
        return list(value or [])


class QueryForm(forms.Form):
    """A page's query string: a value that is absent or not valid falls back to its default.

    For filters and choices of what to show, where a wrong value shows the default view
    rather than an error.
    """

    def value(self, name: str, default=None):
        """The cleaned value of `name`, or `default` when it was absent or not valid."""
        self.is_valid()
        found = self.cleaned_data.get(name)
        return default if found in (None, "") else found


def error_text(form: forms.Form) -> str:
    """The form's errors as one text, for pages that show a refusal in one place.

    The fields of these forms word their own messages as sentences that name the field.
    """
    return " ".join(message for errors in form.errors.values() for message in errors)
