"""Alert rule pages: the list with each rule's state, the form, and the history."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import ListView, TemplateView

from kernel.confirm import Confirmation
from kernel.errors import ApplicationError
from moderation.forms.alerts import KIND_PARAMS, AlertRuleForm
from moderation.models import AlertEvent, AlertRule
from moderation.services import alerts as services
from tenants.scoping import TenantViewMixin, scoped


class AlertListView(TenantViewMixin, ListView):
    """Every rule of the tenant with its state, and the latest events."""

    template_name = "moderation/alerts/list.html"
    model = AlertRule
    context_object_name = "rules"

    def get_tenant_queryset(self):
        return AlertRule.objects.select_related("policy", "sample_set")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["events"] = scoped(AlertEvent, self.tenant).select_related("rule")[:50]
        context["nav"] = "alerts"
        return context


class AlertRuleView(TenantViewMixin, TemplateView):
    """Create (no pk) or edit an alert rule."""

    template_name = "moderation/alerts/form.html"

    def get_rule(self) -> AlertRule | None:
        pk = self.kwargs.get("pk")
        return get_object_or_404(scoped(AlertRule, self.tenant), pk=pk) if pk else None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rule = self.get_rule()
        form = kwargs.get("form") or AlertRuleForm(instance=rule, tenant=self.tenant)
        context.update(
            rule=rule,
            form=form,
            nav="alerts",
            kinds=[(k, form.param_fields(k)) for k in KIND_PARAMS],
        )
        return context

    def post(self, request, *args, **kwargs):
        rule = self.get_rule()
        form = AlertRuleForm(request.POST, instance=rule, tenant=self.tenant)
        if form.is_valid():
            fields = {k: form.cleaned_data[k] for k in AlertRuleForm.Meta.fields}
            try:
                saved = services.alert_rule_save(
                    tenant=self.tenant, rule=rule, params=form.cleaned_data["params"], **fields
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Saved alert rule {saved.name}.")
                return redirect("alert-list", tenant=self.tenant.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AlertRuleDeleteView(TenantViewMixin, TemplateView):
    """GET asks on the confirmation page; POST deletes the rule and its history."""

    template_name = "confirm.html"

    def get_rule(self) -> AlertRule:
        return get_object_or_404(scoped(AlertRule, self.tenant), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        rule = self.get_rule()
        return super().get_context_data(
            nav="alerts",
            confirm=Confirmation(
                title=f"Delete {rule.name}",
                question=f"Delete the alert rule “{rule.name}”?",
                consequence="Its history of fired and resolved events goes with it; nobody "
                "is told of this rule's condition any more. This cannot be undone.",
                button="Delete rule",
                cancel_url=reverse(
                    "alert-rule", kwargs={"tenant": self.tenant.slug, "pk": rule.pk}
                ),
                testid="confirm-delete",
            ),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        rule = self.get_rule()
        services.alert_rule_delete(rule=rule)
        messages.success(request, f"Deleted alert rule {rule.name}.")
        return redirect("alert-list", tenant=self.tenant.slug)
