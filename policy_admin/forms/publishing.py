"""Forms of the publishing pages: validate input for the services, nothing else."""

from django import forms

from policy_admin.forms.policies import DraftForm
from policy_admin.models import DecisionSampling
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


class ShadowForm(forms.Form):
    """Set or change a channel's shadow: the candidate version, its share, the guard."""

    version = forms.IntegerField(min_value=1, label="Shadow version")
    rate_percent = forms.FloatField(
        min_value=0, max_value=100, label="Share of requests (%)", initial=10
    )
    guard_points = forms.FloatField(
        required=False,
        min_value=0.01,
        max_value=100,
        label="Guard: stop when blocks rise by more than (points)",
        help_text="Optional. Stops the shadow and alerts when the candidate blocks this many "
        "percentage points more than the enforced version…",
    )
    guard_requests = forms.IntegerField(
        required=False, min_value=1, label="…over this many shadowed requests"
    )


class DiffForm(forms.Form):
    against = forms.IntegerField(min_value=1, label="Compare with version")


class SamplingForm(forms.ModelForm):
    """The production sampling rules of a policy (what the fleet keeps and sends back)."""

    class Meta:
        model = DecisionSampling
        fields = ["enabled", "review_per_minute", "audit_share", "keep_blocks", "thumbnail_px"]
        labels = {
            "enabled": "Keep decision records",
            "review_per_minute": "Review decisions kept per minute and server",
            "audit_share": "Random audit share",
            "keep_blocks": "Keep every block",
            "thumbnail_px": "Thumbnail size (px)",
        }
