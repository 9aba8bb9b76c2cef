"""Pages: the invitee opens an invitation link and accepts it; an admin revokes one."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView

from kernel.confirm import Confirmation
from kernel.errors import ApplicationError
from tenants.models import Invitation
from tenants.roles import Right
from tenants.scoping import TenantViewMixin
from tenants.selectors import invitations as selectors
from tenants.services import invitations as services


class InvitationAcceptView(LoginRequiredMixin, TemplateView):
    """The invitee sees which tenant and role they are offered, and accepts with a POST."""

    template_name = "tenants/invitation.html"

    def get(self, request, token):
        try:
            invitation = selectors.invitation_open(token=token, user=request.user)
        except ApplicationError as error:
            return self.refuse(error)
        return self.render_to_response(self.get_context_data(invitation=invitation))

    def post(self, request, token):
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except ApplicationError as error:
            return self.refuse(error)
        messages.success(
            request,
            f"You joined {membership.tenant.name} as {membership.get_role_display().lower()}.",
        )
        return redirect("tenant-dashboard", tenant=membership.tenant.slug)

    def refuse(self, error: ApplicationError):
        return self.render_to_response(
            self.get_context_data(error=error.message), status=error.status_code
        )


class InvitationRevokeView(TenantViewMixin, TemplateView):
    """Ask for confirmation, then revoke a pending invitation of the tenant."""

    template_name = "confirm.html"
    required_rights = {"GET": Right.MANAGE_MEMBERS, "POST": Right.MANAGE_MEMBERS}
    model = Invitation

    def get_invitation(self) -> Invitation:
        invitations = self.get_queryset().filter(accepted_at=None, revoked_at=None)
        return get_object_or_404(invitations, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        invitation = self.get_invitation()
        username, role = invitation.username, invitation.get_role_display().lower()
        return super().get_context_data(
            confirm=Confirmation(
                title=f"Revoke the invitation of {username}",
                question=f"Revoke the invitation of {username}?",
                consequence=f"The link sent to {username} ({role}) stops working at once. "
                "You can invite them again later.",
                button="Revoke invitation",
                cancel_url=reverse("tenant-members", kwargs={"tenant": self.tenant.slug}),
            ),
            **kwargs,
        )

    def post(self, request, tenant, pk):
        invitation = services.invitation_revoke(invitation=self.get_invitation())
        messages.success(request, f"Revoked the invitation of {invitation.username}.")
        return redirect("tenant-members", tenant=self.tenant.slug)
