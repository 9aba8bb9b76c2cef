"""Policy-as-code pages: download a policy's draft as YAML, import YAML into it."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views import View
from django.views.generic import FormView

from policy_admin.models import Policy
from policy_admin.policy_yaml.archive import MAX_ZIP_BYTES
from policy_admin.policy_yaml.document import MAX_YAML_BYTES
from policy_admin.policy_yaml.problems import PolicyYamlError
from policy_admin.selectors import policies as selectors
from policy_admin.services import policy_yaml
from policy_admin.services.drafts import StaleDraftError
from tenants.roles import Right
from tenants.scoping import TenantViewMixin


class PolicyImportForm(forms.Form):
    yaml_file = forms.FileField(required=False, label="YAML file")
    yaml_text = forms.CharField(
        required=False, label="…or paste the YAML", widget=forms.Textarea(attrs={"rows": 12})
    )
    images_zip = forms.FileField(
        required=False,
        label="Example images (zip, optional)",
        help_text="Only for images not yet uploaded to a concept of this tenant.",
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean(self):
        data = super().clean()
        if bool(data.get("yaml_file")) == bool(data.get("yaml_text", "").strip()):
            raise forms.ValidationError("Upload a YAML file or paste the YAML (one of the two).")
        for key, limit in (("yaml_file", MAX_YAML_BYTES), ("images_zip", MAX_ZIP_BYTES)):
            upload = data.get(key)
            if upload and upload.size > limit:
                self.add_error(key, f"{upload.name} is larger than {limit // 2**20} MB.")
        return data


class PolicyMixin(TenantViewMixin):
    """The policy named in the URL, found through the tenant (another tenant's is a 404)."""

    def get_policy(self) -> Policy:
        try:
            return selectors.policy_get(tenant=self.tenant, slug=self.kwargs["slug"])
        except Policy.DoesNotExist:
            raise Http404("No such policy.") from None


class PolicyExportView(PolicyMixin, View):
    """The draft as a YAML download; every member may export."""

    def get(self, request, *args, **kwargs):
        policy = self.get_policy()
        response = HttpResponse(policy_yaml.policy_export(policy), content_type="text/yaml")
        response["Content-Disposition"] = f'attachment; filename="{policy.slug}.yaml"'
        return response


class PolicyImportView(PolicyMixin, FormView):
    """Replace the draft with an uploaded or pasted YAML; editors only."""

    template_name = "policy_admin/policy_import.html"
    form_class = PolicyImportForm
    required_rights = {**TenantViewMixin.required_rights, "GET": Right.EDIT, "HEAD": Right.EDIT}

    def get_initial(self):
        return {"revision": self.get_policy().revision}

    def get_context_data(self, **kwargs):
        return super().get_context_data(policy=self.get_policy(), **kwargs)

    def form_valid(self, form):
        policy, data = self.get_policy(), form.cleaned_data
        upload, images = data.get("yaml_file"), data.get("images_zip")
        try:
            result = policy_yaml.policy_import(
                policy=policy,
                actor=self.request.user,
                revision=data["revision"],
                text=upload.read() if upload else data["yaml_text"],
                images_zip=images.read() if images else None,
            )
        except PolicyYamlError as error:
            return self.render_to_response(
                self.get_context_data(form=form, problems=error.problems, error=error.message)
            )
        except StaleDraftError as error:
            return self.render_to_response(self.get_context_data(form=form, error=error.message))
        messages.success(self.request, f"Imported: {result.summary}.")
        # The policy page belongs to the policy editor's URLs (policy_patterns).
        return redirect("policy-editor", tenant=self.tenant.slug, slug=policy.slug)
