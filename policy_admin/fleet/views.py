"""Pages for a tenant's admins: fleet tokens (create with the secret shown once, revoke)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from kernel.confirm import Confirmation
from kernel.errors import ApplicationError
from policy_admin.fleet import services as fleet
from policy_admin.fleet.forms import FleetTokenForm
from policy_admin.models import FleetToken, Policy
from policy_admin.services import approvals
from tenants.roles import Right
from tenants.scoping import TenantViewMixin

ADMIN_ONLY = dict.fromkeys(TenantViewMixin.required_rights, Right.MANAGE_TOKENS)


class FleetTokenListView(TenantViewMixin, TemplateView):
    """The tenant's tokens with scope, expiry and last use; creating one shows its secret once."""

    template_name = "policy_admin/fleet_tokens.html"
    required_rights = ADMIN_ONLY
    model = FleetToken

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        slugs = dict(Policy.objects.filter(tenant=self.tenant).values_list("pk", "slug"))
        tokens = list(self.get_queryset().select_related("created_by"))
        for token in tokens:
            token.policy_slugs = [slugs.get(pk, "(deleted)") for pk in token.policy_ids]
        context.setdefault("form", FleetTokenForm(tenant=self.tenant))
        context.update(
            tokens=tokens,
            now=timezone.now(),
            nav="fleet-tokens",
            require_approval=approvals.approval_required(tenant=self.tenant),
        )
        return context

    def post(self, request, *args, **kwargs):
        form = FleetTokenForm(request.POST, tenant=self.tenant)
        if form.is_valid():
            try:
                token, secret = fleet.fleet_token_create(
                    tenant=self.tenant, actor=request.user, **form.cleaned_data
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                context = self.get_context_data(created=token, secret=secret)
                return self.render_to_response(context, status=201)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class FleetTokenRevokeView(TenantViewMixin, TemplateView):
    """GET asks for confirmation; POST revokes: servers using the token get 401 from then on."""

    template_name = "confirm.html"
    required_rights = ADMIN_ONLY
    model = FleetToken

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        token = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        context["confirm"] = Confirmation(
            title=f"Revoke {token.name}",
            question=f"Revoke the fleet token “{token.name}”?",
            consequence="Every server that uses it gets 401 from its next poll and keeps running "
            "the bundle it has. This cannot be undone; create a new token first if servers "
            "still need one.",
            button="Revoke",
            cancel_url=reverse("fleet-tokens", kwargs={"tenant": self.tenant.slug}),
        )
        return context

    def post(self, request, *args, **kwargs):
        token = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        try:
            fleet.fleet_token_revoke(token=token, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Revoked {token.name}; servers using it now get 401.")
        return redirect("fleet-tokens", tenant=self.tenant.slug)
