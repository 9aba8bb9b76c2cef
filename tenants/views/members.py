"""Pages: tenant picker, member management, API token."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import ListView, TemplateView
from rest_framework.authtoken.models import Token

from kernel.confirm import Confirmation
from kernel.errors import ApplicationError
from tenants.forms.members import MemberInviteForm, MemberRoleForm
from tenants.models import Membership
from tenants.roles import Right
from tenants.scoping import TenantViewMixin
from tenants.selectors import invitations as invitation_selectors
from tenants.selectors import members as selectors
from tenants.services import members as services

MEMBER_RIGHTS = {"GET": Right.READ, "HEAD": Right.READ, "POST": Right.MANAGE_MEMBERS}


class TenantPickerView(LoginRequiredMixin, TemplateView):
    """The tenants a user belongs to; a user of exactly one goes straight to it."""

    template_name = "tenants/picker.html"

    def get(self, request, *args, **kwargs):
        memberships = list(selectors.membership_list_for_user(user=request.user))
        if len(memberships) == 1:
            return redirect("tenant-dashboard", tenant=memberships[0].tenant.slug)
        return self.render_to_response({"memberships": memberships})


class MemberListView(TenantViewMixin, ListView):
    """Members of the tenant with search; admins invite, change roles and remove."""

    template_name = "tenants/members.html"
    required_rights = MEMBER_RIGHTS
    paginate_by = 25
    context_object_name = "members"

    def get_queryset(self):
        return selectors.member_list(tenant=self.tenant, search=self.request.GET.get("q", ""))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("invite_form", MemberInviteForm())
        context["role_choices"] = Membership.Role.choices
        context["search"] = self.request.GET.get("q", "")
        if self.has_right(Right.MANAGE_MEMBERS):
            context["invitations"] = invitation_selectors.invitation_list_open(tenant=self.tenant)
        return context

    def post(self, request, *args, **kwargs):
        form = MemberInviteForm(request.POST)
        if form.is_valid():
            try:
                invited = services.member_invite(
                    tenant=self.tenant, actor=request.user, **form.cleaned_data
                )
            except ApplicationError as error:
                form.add_error("username", error.message)
            else:
                _announce_invite(request, invited)
                return redirect("tenant-members", tenant=self.tenant.slug)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(invite_form=form), status=400)


def _announce_invite(request, invited: services.Invited) -> None:
    if invited.invitation is not None:
        invitation = invited.invitation
        link = request.build_absolute_uri(
            reverse("invitation-accept", kwargs={"token": invited.token})
        )
        messages.success(
            request,
            f"Invited {invitation.username} as {invitation.get_role_display().lower()}. They "
            f"join once they open this link, signed in, and accept: {link} It is shown only "
            f"this once and works until {invitation.expires_at:%Y-%m-%d %H:%M} UTC.",
        )
        return
    membership = invited.membership
    messages.success(
        request,
        f"Created {membership.user.username} as {membership.get_role_display().lower()}. "
        f"Their password is {invited.password}; it is shown only this once, so pass it on now.",
    )


class MemberRoleView(TenantViewMixin, View):
    """Change one member's role; an htmx request gets the updated row back."""

    required_rights = MEMBER_RIGHTS
    model = Membership

    def post(self, request, tenant, pk):
        membership = get_object_or_404(self.get_queryset().select_related("user"), pk=pk)
        form = MemberRoleForm(request.POST)
        error = None
        if not form.is_valid():
            error = "Choose one of the roles: viewer, editor or admin."
        else:
            try:
                membership = services.member_change_role(
                    membership=membership, role=form.cleaned_data["role"]
                )
            except ApplicationError as exc:
                error = exc.message
        if request.htmx:
            context = {
                "m": membership,
                "tenant": self.tenant,
                "role_choices": Membership.Role.choices,
                "can_manage_members": True,
                "row_error": error,
            }
            return render(
                request, "tenants/partials/member_row.html", context, status=409 if error else 200
            )
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"{membership.user.username} is now {membership.role}.")
        return redirect("tenant-members", tenant=self.tenant.slug)


class MemberRemoveView(TenantViewMixin, TemplateView):
    """Ask for confirmation, then remove the member."""

    template_name = "confirm.html"
    required_rights = {**MEMBER_RIGHTS, "GET": Right.MANAGE_MEMBERS}
    model = Membership

    def get_membership(self):
        return get_object_or_404(self.get_queryset().select_related("user"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        membership = self.get_membership()
        username, role = membership.user.username, membership.get_role_display().lower()
        return super().get_context_data(
            confirm=Confirmation(
                title=f"Remove {username}",
                question=f"Remove {username}?",
                consequence=f"{username} ({role}) will lose access to {self.tenant.name} at "
                "once. Their account stays, and so does everything they wrote.",
                button="Remove member",
                cancel_url=reverse("tenant-members", kwargs={"tenant": self.tenant.slug}),
            ),
            **kwargs,
        )

    def post(self, request, tenant, pk):
        membership = self.get_membership()
        try:
            services.member_remove(membership=membership)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"Removed {membership.user.username} from {self.tenant.name}."
            )
        return redirect("tenant-members", tenant=self.tenant.slug)


class ApiTokenView(LoginRequiredMixin, TemplateView):
    """Show the user's API token, and issue a new one on request (the old one stops working)."""

    template_name = "tenants/api_token.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["token"] = Token.objects.filter(user=self.request.user).first()
        context["schema_url"] = reverse("api-docs")
        return context

    def post(self, request):
        services.api_token_rotate(user=request.user)
        messages.success(request, "Issued a new API token; the previous one no longer works.")
        return redirect("api-token")
