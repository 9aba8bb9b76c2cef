"""Forms of the publishing and fleet-token pages: validate input for the services, nothing else."""

from django import forms

from policy_admin.forms import DraftForm
from policy_admin.models import Policy
from tenants.models import slug_validator


class PublishForm(DraftForm):
    note = forms.CharField(
        max_length=500,
        required=False,
        label="Note",
        help_text="What changed and why; shown in the version list and the audit log.",
    )


class ChannelMoveForm(forms.Form):
    KINDS = (("promote", "Promote"), ("rollback", "Roll back"))

    kind = forms.ChoiceField(choices=KINDS, widget=forms.HiddenInput)
    channel = forms.CharField(
        max_length=40,
        validators=[slug_validator],
        help_text="staging, production, or a new name of your own.",
    )
    version = forms.IntegerField(min_value=1, label="Version number")
    note = forms.CharField(max_length=500, required=False)


class DiffForm(forms.Form):
    against = forms.IntegerField(min_value=1, label="Compare with version")


class FleetTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which servers use it, such as gpu-eu.")
    policies = forms.ModelMultipleChoiceField(
        queryset=Policy.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every policy of the tenant.",
    )
    channels = forms.CharField(
        required=False,
        help_text="Comma-separated, such as production, staging. Empty: every channel.",
    )
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires at (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: never expires (revoke it when done).",
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policies"].queryset = Policy.objects.filter(tenant=tenant).order_by("name")

    def clean_channels(self):
        names = [c.strip() for c in self.cleaned_data["channels"].split(",") if c.strip()]
        for name in names:
            slug_validator(name)
        return names
