"""The policy list (with creation), the policy editor page, and deleting a policy."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import ListView

from policy_admin.forms.policies import PolicyCreateForm, PolicyDetailsForm
from policy_admin.models import ClipConcept
from policy_admin.selectors import catalogue
from policy_admin.selectors import policies as selectors
from policy_admin.selectors import publishing as selectors_publishing
from policy_admin.services import policies
from policy_admin.views.base import INVALID, STALE, ConfirmDeleteView, PolicyPageView, attempt
from policy_admin.views.ladder import threshold_rows
from tenants.scoping import TenantViewMixin


class PolicyListView(TenantViewMixin, ListView):
    """The tenant's policies with search and rule counts; editors create new ones here."""

    template_name = "policy_admin/policy_list.html"
    paginate_by = 25
    context_object_name = "policies"

    def get_queryset(self):
        search = self.request.GET.get("q", "").strip()
        return selectors.policy_list(tenant=self.tenant, search=search).select_related("created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("create_form", PolicyCreateForm())
        context.update(search=self.request.GET.get("q", "").strip(), nav="policies")
        return context

    def post(self, request, *args, **kwargs):
        form = PolicyCreateForm(request.POST)
        if form.is_valid():
            outcome = attempt(
                form,
                lambda: policies.policy_create(
                    tenant=self.tenant, actor=request.user, **form.cleaned_data
                ),
                field="slug",
            )
            if outcome.ok:
                messages.success(request, f"Created policy {outcome.result.name}.")
                return redirect("policy-editor", tenant=self.tenant.slug, slug=outcome.result.slug)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(create_form=form), status=INVALID)


class PolicyEditorView(PolicyPageView):
    """The draft of one policy: details, and one section per rule kind."""

    template_name = "policy_admin/policy_editor.html"
    bound_row = None  # a refused threshold row to show with the user's input

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        draft = selectors.policy_draft(policy=self.policy)
        context.setdefault(
            "details_form",
            PolicyDetailsForm(
                initial={
                    "name": self.policy.name,
                    "description": self.policy.description,
                    "robustness_floor": self.policy.robustness_floor,
                    "failure_mode": self.policy.failure_mode,
                    "revision": self.policy.revision,
                }
            ),
        )
        floor = selectors.floor()
        context.update(
            draft=draft,
            floor_keyword_sets=floor["keyword_sets"],
            threshold_rows=threshold_rows(
                self.policy, draft["thresholds"], floor, bound=self.bound_row
            ),
            category_count=len(catalogue.categories()),
            concepts=[_concept_summary(c) for c in draft["concepts"]],
            min_positives=ClipConcept.MIN_POSITIVES,
            published=selectors_publishing.version_list(policy=self.policy).first(),
            channels=selectors_publishing.channel_list(policy=self.policy),
        )
        return context

    def post(self, request, *args, **kwargs):
        """Save the policy's name and description."""
        form = PolicyDetailsForm(request.POST)
        if form.is_valid():
            outcome = attempt(
                form,
                lambda: policies.policy_update(
                    policy=self.policy,
                    actor=request.user,
                    revision=form.cleaned_data["revision"],
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    robustness_floor=form.cleaned_data["robustness_floor"],
                    failure_mode=form.cleaned_data["failure_mode"] or self.policy.failure_mode,
                ),
                field="name",
            )
            if outcome.ok:
                messages.success(request, "Saved the policy's details.")
                return redirect("policy-editor", tenant=self.tenant.slug, slug=self.policy.slug)
            if outcome.stale:
                context = self.get_context_data(details_form=form, details_stale=outcome.stale)
                return self.render_to_response(context, status=STALE)
        return self.render_to_response(self.get_context_data(details_form=form), status=INVALID)


def _concept_summary(concept: ClipConcept) -> dict:
    images = list(concept.images.all())
    positives = sum(1 for i in images if i.positive)
    return {
        "concept": concept,
        "positives": positives,
        "negatives": len(images) - positives,
        "needs_more": positives < ClipConcept.MIN_POSITIVES,
        "thumbnails": images[:4],
    }


class PolicyDeleteView(ConfirmDeleteView):
    """Delete the policy and its draft; its audit log entries stay."""

    consequence = "Its draft and every rule in it go. Its audit log entries stay."

    def get_object(self):
        return self.policy

    def describe(self, obj) -> str:
        return f"the policy “{obj.name}”"

    def delete(self, obj, actor, revision):
        policies.policy_delete(policy=obj, actor=actor, revision=revision)

    def success_url(self) -> str:
        return reverse("policy-list", kwargs={"tenant": self.tenant.slug})
