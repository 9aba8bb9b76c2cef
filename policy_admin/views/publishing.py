"""Pages: a policy's versions and channels (publish, promote, roll back), diffs, rollout."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import View

from kernel.errors import ApplicationError
from policy_admin.fleet.selectors import rollout_summary
from policy_admin.forms.publishing import ChannelMoveForm, DiffForm, PublishForm, ShadowForm
from policy_admin.models import PolicyVersion
from policy_admin.selectors import publishing as selectors
from policy_admin.services import approvals, publishing, shadow
from policy_admin.views.base import PolicyPageView, attempt
from tenants.roles import Right
from tenants.scoping import TenantViewMixin

PUBLISH_RIGHTS = {**TenantViewMixin.required_rights, "POST": Right.PUBLISH}


def versions_url(tenant, policy) -> str:
    return reverse("policy-versions", kwargs={"tenant": tenant.slug, "slug": policy.slug})


class VersionsView(PolicyPageView):
    """Versions newest first, the channels and where they point; publishers publish and move."""

    template_name = "policy_admin/versions.html"
    required_rights = PUBLISH_RIGHTS

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        versions = list(selectors.version_list(policy=self.policy)[:100])
        context.setdefault("publish_form", PublishForm(initial={"revision": self.policy.revision}))
        context.setdefault("move_form", ChannelMoveForm(initial={"kind": "promote"}))
        context.update(
            versions=versions,
            channels=selectors.channel_list(policy=self.policy),
            can_publish=self.has_right(Right.PUBLISH),
            approval_required=approvals.approval_required(tenant=self.tenant),
            approvers=approvals.approvers(policy=self.policy, revision=self.policy.revision),
        )
        return context

    def post(self, request, *args, **kwargs):
        form = PublishForm(request.POST)
        outcome = None
        if form.is_valid():
            outcome = attempt(
                form,
                lambda: publishing.policy_publish(
                    policy=self.policy,
                    actor=request.user,
                    revision=form.cleaned_data["revision"],
                    note=form.cleaned_data["note"],
                ),
            )
            if outcome.ok:
                messages.success(request, f"Published v{outcome.result.number}.")
                return redirect(versions_url(self.tenant, self.policy))
        context = self.get_context_data(
            publish_form=form, publish_stale=outcome.stale if outcome else ""
        )
        return self.render_to_response(context, status=outcome.status if outcome else 400)


class ChannelMoveView(VersionsView):
    """POST: promote a version to a channel, or roll the channel back to an earlier one."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = ChannelMoveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            service = (
                publishing.channel_rollback
                if data["kind"] == "rollback"
                else publishing.channel_promote
            )
            outcome = attempt(
                form,
                lambda: service(
                    policy=self.policy,
                    actor=request.user,
                    channel=data["channel"],
                    number=data["version"],
                    note=data["note"],
                ),
                field="version",
            )
            if outcome.ok:
                channel = outcome.result
                messages.success(
                    request, f"Channel {channel.name} now runs v{channel.version.number}."
                )
                return redirect(versions_url(self.tenant, self.policy))
        return self.render_to_response(self.get_context_data(move_form=form), status=400)


class ApproveView(VersionsView):
    """POST: approve the draft's current revision for publishing (four eyes)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = PublishForm(request.POST)
        form.is_valid()
        outcome = attempt(
            form,
            lambda: approvals.policy_approve(
                policy=self.policy, actor=request.user, revision=form.cleaned_data.get("revision")
            ),
        )
        if outcome.ok:
            messages.success(request, f"Approved revision {outcome.result.revision}.")
            return redirect(versions_url(self.tenant, self.policy))
        context = self.get_context_data(publish_form=form, publish_stale=outcome.stale)
        return self.render_to_response(context, status=outcome.status)


class VersionDiffView(PolicyPageView):
    """What changed between two versions: rules added, removed, changed, thresholds moved."""

    template_name = "policy_admin/version_diff.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        number = self.kwargs["number"]
        form = DiffForm(self.request.GET or {"against": max(number - 1, 1)})
        diff = None
        if form.is_valid():
            try:
                diff = selectors.version_diff(
                    policy=self.policy, old=form.cleaned_data["against"], new=number
                )
            except PolicyVersion.DoesNotExist:
                form.add_error("against", f"{self.policy.name} has no such version.")
        if not selectors.version_list(policy=self.policy).filter(number=number).exists():
            raise Http404("No such version.")
        context.update(
            number=number, form=form, diff=diff, versions_url=versions_url(self.tenant, self.policy)
        )
        return context


class ChannelView(PolicyPageView):
    """One channel: where it points, its shadow, every move, and the rollout across the fleet.

    POST (publishers) sets, stops or promotes the shadow: `op` is set, stop or promote.
    """

    template_name = "policy_admin/channel.html"
    required_rights = PUBLISH_RIGHTS

    def _channel(self):
        channel = (
            selectors.channel_list(policy=self.policy).filter(name=self.kwargs["channel"]).first()
        )
        if channel is None:
            raise Http404("No such channel.")
        return channel

    def post(self, request, *args, **kwargs):
        channel = self._channel()
        op = request.POST.get("op")
        form = ShadowForm(request.POST) if op == "set" else None
        try:
            if op == "set":
                if not form.is_valid():
                    return self._refused(form)
                data = form.cleaned_data
                shadow.shadow_set(
                    policy=self.policy,
                    actor=request.user,
                    channel=channel.name,
                    number=data["version"],
                    rate=data["rate_percent"] / 100,
                    guard_points=data["guard_points"],
                    guard_requests=data["guard_requests"],
                )
                done = (
                    f"v{data['version']} now shadows {channel.name} on {data['rate_percent']:g}%."
                )
            elif op == "stop":
                shadow.shadow_stop(policy=self.policy, actor=request.user, channel=channel.name)
                done = f"The shadow of {channel.name} is stopped."
            elif op == "promote":
                moved = shadow.shadow_promote(
                    policy=self.policy, actor=request.user, channel=channel.name
                )
                done = f"{channel.name} now enforces v{moved.version.number}; the shadow ended."
            else:
                raise ApplicationError("Choose what to do: set, stop or promote the shadow.")
        except ApplicationError as error:
            return self._refused(form, error.message)
        messages.success(request, done)
        return redirect(
            "policy-channel", tenant=self.tenant.slug, slug=self.policy.slug, channel=channel.name
        )

    def _refused(self, form, message: str = ""):
        extra = {"shadow_form": form} if form is not None else {}
        context = self.get_context_data(shadow_error=message, **extra)
        return self.render_to_response(context, status=400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        channel = self._channel()
        rows = selectors.channel_rollout(channel=channel)
        initial = {"version": channel.shadow_version.number} if channel.shadow_version else {}
        if channel.shadow_version:
            initial.update(
                rate_percent=round(channel.shadow_rate * 100, 4),
                guard_points=channel.guard_points,
                guard_requests=channel.guard_requests,
            )
        context.setdefault("shadow_form", ShadowForm(initial=initial))
        context.update(
            can_publish=self.has_right(Right.PUBLISH),
            channel=channel,
            moves=selectors.channel_history(channel=channel)[:50],
            rollout=rows,
            stale_after=selectors.stale_after(),
            current_count=rollout_summary(channel=channel, rows=rows).current,
            versions_url=versions_url(self.tenant, self.policy),
        )
        return context


class PublishingSettingsView(TenantViewMixin, View):
    """POST (admins): turn four-eyes publishing on or off for the tenant."""

    required_rights = {"POST": Right.MANAGE_PUBLISHING}
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        on = request.POST.get("require_approval") == "on"
        approvals.publishing_settings_set(
            tenant=self.tenant, actor=request.user, require_approval=on
        )
        messages.success(
            request,
            "Publishes now need a second person's approval."
            if on
            else "Publishes no longer need an approval.",
        )
        return redirect("fleet-tokens", tenant=self.tenant.slug)
