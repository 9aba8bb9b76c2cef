"""A policy's production sampling: which decisions the fleet keeps, for review and for audit."""

from django.contrib import messages
from django.shortcuts import redirect

from policy_admin.forms.publishing import SamplingForm
from policy_admin.selectors.policies import decision_sampling
from policy_admin.services.sampling import sampling_save
from policy_admin.views.base import PolicyPageView


class SamplingView(PolicyPageView):
    """GET shows the settings; POST (editors) saves them; they ship with the next version."""

    template_name = "policy_admin/sampling.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", SamplingForm(instance=decision_sampling(self.policy)))
        return context

    def post(self, request, *args, **kwargs):
        form = SamplingForm(request.POST, instance=decision_sampling(self.policy))
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        sampling_save(
            policy=self.policy,
            actor=request.user,
            **{name: form.cleaned_data[name] for name in SamplingForm.Meta.fields},
        )
        messages.success(
            request, "Sampling saved. Servers apply it once the next version is published."
        )
        return redirect("policy-sampling", tenant=self.tenant.slug, slug=self.policy.slug)
