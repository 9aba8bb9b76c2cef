"""The tenant's dashboard, in authoring because it lists the tenant's policies."""

from django.views.generic import TemplateView

from policy_admin.selectors import policies as selectors
from tenants.scoping import TenantViewMixin
from tenants.selectors import members as member_selectors

DASHBOARD_POLICIES = 10


class DashboardView(TenantViewMixin, TemplateView):
    """A tenant's home: its members and its most recently changed policies."""

    template_name = "policy_admin/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = member_selectors.member_list(tenant=self.tenant)
        context["policies"] = selectors.policy_list(tenant=self.tenant).order_by("-updated_at")[
            :DASHBOARD_POLICIES
        ]
        context["nav"] = "dashboard"
        return context
