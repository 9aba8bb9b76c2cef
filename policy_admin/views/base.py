"""What the policy pages share: the policy from the URL, scoped rule lookup, service refusals."""

from collections.abc import Callable
from functools import cached_property

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView
from django_htmx.http import trigger_client_event

from kernel.confirm import Confirmation
from kernel.errors import ApplicationError
from policy_admin.forms.policies import DraftForm
from policy_admin.models import Policy
from policy_admin.selectors import policies as selectors
from policy_admin.services.drafts import StaleDraftError
from tenants.roles import Right
from tenants.scoping import TenantViewMixin, scoped

# Status of a page or partial sent back with the user's input and what was wrong with it.
INVALID = 400
STALE = 409


class PolicyPageMixin(TenantViewMixin):
    """A page of one of the tenant's policies; another tenant's policy or rule is a 404."""

    nav = "policies"
    policy_url_kwarg = "slug"

    @cached_property
    def policy(self) -> Policy:
        try:
            return selectors.policy_get(tenant=self.tenant, slug=self.kwargs[self.policy_url_kwarg])
        except Policy.DoesNotExist:
            raise Http404("No such policy.") from None

    def get_rule(self, model: type[Model], pk: int) -> Model:
        """The policy's rule of this kind with this id, or a 404 (whatever tenant owns the id)."""
        rule = get_object_or_404(scoped(model, self.tenant).filter(policy=self.policy), pk=pk)
        rule.policy = self.policy  # the services bump this instance's revision
        return rule

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            policy=self.policy,
            nav=self.nav,
            editor_url=editor_url(self.tenant, self.policy),
        )
        return context


class PolicyPageView(PolicyPageMixin, TemplateView):
    pass


class Outcome:
    """What a call through `attempt` came to: its result, a stale refusal, or form errors."""

    def __init__(self, *, ok: bool = False, result=None, stale: str = ""):
        self.ok = ok
        self.result = result
        self.stale = stale

    @property
    def status(self) -> int:
        """The status of the page sent back when the call did not succeed."""
        return STALE if self.stale else INVALID


def attempt(form, call: Callable, *, field: str | Callable | None = None) -> Outcome:
    """Run a service call; a refusal lands on the form, next to `field` when it names no field.

    `field` may be a function of the ApplicationError, for services whose refusals
    concern different fields.

    A stale draft is kept apart: the page shows it above the form with a reload link.
    """
    try:
        return Outcome(ok=True, result=call())
    except StaleDraftError as error:
        return Outcome(stale=error.message)
    except ApplicationError as error:
        target = field(error) if callable(field) else field
        by_field = error.extra.get("fields") or {target: [error.message]}
        for name, messages in by_field.items():
            form.add_error(_known(form, name), messages)
    except ValidationError as error:
        for name, messages in _by_field(error).items():
            target = None if callable(field) else field
            form.add_error(_known(form, target if name == NON_FIELD_ERRORS else name), messages)
    return Outcome()


def _by_field(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            name: [message for e in errors for message in e.messages]
            for name, errors in error.error_dict.items()
        }
    return {NON_FIELD_ERRORS: error.messages}


def _known(form, name: str | None) -> str | None:
    return name if name in form.fields else None


def announce_revision(response, policy: Policy):
    """Tell the page's other forms the draft's new revision (static/js/policy.js listens)."""
    trigger_client_event(response, "revision-changed", {"revision": policy.revision})
    return response


def revision_of(request) -> int | None:
    value = request.POST.get("revision", "")
    return int(value) if value.isdigit() else None


def editor_url(tenant, policy: Policy, anchor: str = "") -> str:
    url = reverse("policy-editor", kwargs={"tenant": tenant.slug, "slug": policy.slug})
    return f"{url}#{anchor}" if anchor else url


class ConfirmDeleteView(PolicyPageView):
    """GET asks for confirmation; POST deletes through the service and goes back to the editor."""

    template_name = "confirm.html"
    required_rights = {**TenantViewMixin.required_rights, "GET": Right.EDIT, "HEAD": Right.EDIT}
    consequence = ""
    anchor = ""

    def get_object(self):
        return self.get_rule(self.model, self.kwargs["pk"])

    def describe(self, obj) -> str:
        return f"the {obj._meta.verbose_name} “{obj}”"

    def delete(self, obj, actor, revision: int | None) -> None:
        raise NotImplementedError

    def success_url(self) -> str:
        return editor_url(self.tenant, self.policy, self.anchor)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        what = self.describe(self.object)
        context["confirm"] = Confirmation(
            title=f"Delete {what}",
            question=f"Delete {what}?",
            consequence=f"{self.consequence} This changes the draft of {self.policy.name}; "
            "it cannot be undone, but the audit log records what it held.",
            button="Delete",
            cancel_url=editor_url(self.tenant, self.policy, self.anchor),
            hidden={"revision": self.policy.revision},
            notice="policy_admin/partials/stale.html",
        )
        context["reload_url"] = self.request.path
        return context

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        what = self.describe(self.object)
        form = DraftForm(request.POST)
        form.is_valid()
        outcome = attempt(
            form, lambda: self.delete(self.object, request.user, revision_of(request))
        )
        if outcome.ok:
            messages.success(request, f"Deleted {what}.")
            return redirect(self.success_url())
        context = self.get_context_data(stale=outcome.stale, refusal=form.non_field_errors())
        return self.render_to_response(context, status=outcome.status)


class RuleFormView(PolicyPageView):
    """Create (no pk in the URL) or edit one rule through its service, then go back."""

    form_class = None
    anchor = ""
    error_field: str | None = None
    saved_message = "Saved {rule}."

    def get_object(self):
        pk = self.kwargs.get("pk")
        return self.get_rule(self.model, pk) if pk else None

    def initial(self, obj) -> dict:
        return {}

    def form_kwargs(self) -> dict:
        """Extra arguments of the form (a form offering the policy's own rules takes it)."""
        return {}

    def save(self, form, obj):
        raise NotImplementedError

    def success_url(self, rule) -> str:
        return editor_url(self.tenant, self.policy, self.anchor)

    def get_context_data(self, **kwargs):
        if "form" not in kwargs:
            initial = {**self.initial(self.object), "revision": self.policy.revision}
            kwargs["form"] = self.form_class(initial=initial, **self.form_kwargs())
        return super().get_context_data(object=self.object, anchor=self.anchor, **kwargs)

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = self.form_class(request.POST, **self.form_kwargs())
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(form, lambda: self.save(form, self.object), field=self.error_field)
        if outcome.ok:
            messages.success(request, self.saved_message.format(rule=outcome.result))
            return redirect(self.success_url(outcome.result))
        if self.object is not None:
            self.object.refresh_from_db()
        context = self.get_context_data(form=form, stale=outcome.stale)
        return self.render_to_response(context, status=outcome.status)
