"""The audit log, per tenant and per policy: read-only for every role, filtered by user and date."""

from django.views.generic import ListView

from policy_admin.forms.policies import AuditFilterForm
from policy_admin.selectors import policies as selectors
from policy_admin.views.base import PolicyPageMixin
from tenants.scoping import TenantViewMixin


class TenantAuditView(TenantViewMixin, ListView):
    """Every change in the tenant, newest first."""

    template_name = "policy_admin/audit_list.html"
    paginate_by = 25
    context_object_name = "events"
    http_method_names = ["get", "head"]
    nav = "audit"

    def audit_policy(self):
        return None

    def get_queryset(self):
        actors = selectors.audit_actor_names(tenant=self.tenant)
        self.filter_form = AuditFilterForm(self.request.GET or None, actors=actors)
        filters = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        return selectors.audit_list(
            tenant=self.tenant,
            policy=self.audit_policy(),
            actor=filters.get("actor", ""),
            since=filters.get("since"),
            until=filters.get("until"),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filtered = self.filter_form.is_bound and any(
            self.request.GET.get(k) for k in ("actor", "since", "until")
        )
        context.update(filter_form=self.filter_form, filtered=filtered, nav=self.nav)
        return context


class PolicyAuditView(PolicyPageMixin, TenantAuditView):
    """The changes of one policy, newest first."""

    nav = "policies"

    def audit_policy(self):
        return self.policy
