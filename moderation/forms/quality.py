"""The drift page's query form; a wrong value shows the default comparison, as filters do."""

from django import forms

from moderation.forms.fields import QueryForm

LIVE = "live"
PRODUCTION = "production"


class DriftForm(QueryForm):
    """A baseline suite, and a later suite or the last `window` live tests (`current=live`)."""

    baseline = forms.IntegerField(required=False, min_value=1)
    current = forms.RegexField(regex=rf"^(\d+|{LIVE}|{PRODUCTION})$", required=False)
    window = forms.IntegerField(required=False, min_value=1)
    hours = forms.IntegerField(required=False, min_value=1, max_value=24 * 90)

    @property
    def live(self) -> bool:
        return self.value("current") == LIVE

    @property
    def production(self) -> bool:
        return self.value("current") == PRODUCTION

    @property
    def baseline_id(self) -> int:
        return self.value("baseline", 0)

    @property
    def current_id(self) -> int:
        """The current suite's id; 0 for the newest suite, or when live tests are compared."""
        return 0 if self.live or self.production else int(self.value("current", 0))
