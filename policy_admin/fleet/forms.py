"""The fleet token form of the admins' token page."""

from django import forms

from policy_admin.models import Policy
from tenants.models import slug_validator


class FleetTokenForm(forms.Form):
    """A new token's name, scope (policies, channels) and expiry."""

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
    scopes = forms.MultipleChoiceField(
        choices=[
            ("fetch", "fetch: read bundles and send status reports"),
            ("report", "report: upload production decisions"),
        ],
        initial=["fetch", "report"],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="What servers with this token may do. None ticked: both.",
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

    def clean_scopes(self):
        return self.cleaned_data["scopes"] or None

    def clean_channels(self):
        names = [c.strip() for c in self.cleaned_data["channels"].split(",") if c.strip()]
        for name in names:
            slug_validator(name)
        return names
