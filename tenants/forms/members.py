"""Forms for member management; they validate input and nothing else."""

from django import forms

from tenants.roles import Role


class MemberInviteForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        help_text="A new account is created at once; an existing one gets a link to accept.",
    )
    email = forms.EmailField(required=False, help_text="Used only when the account is new.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
