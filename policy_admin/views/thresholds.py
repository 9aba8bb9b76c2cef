"""Category thresholds: one table row per catalogue category, saved and reset inline with htmx."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from policy_admin.forms.policies import DraftForm, ThresholdForm
from policy_admin.models import CategoryThreshold
from policy_admin.selectors import catalogue
from policy_admin.selectors import policies as selectors
from policy_admin.services import rules
from policy_admin.views.base import Outcome, announce_revision, attempt, editor_url, revision_of
from policy_admin.views.ladder import ThresholdRow, floors_for, row_form
from policy_admin.views.policies import PolicyEditorView
from tenants.roles import Right
from tenants.scoping import scoped

ROW_TEMPLATE = "policy_admin/partials/threshold_row.html"


class ThresholdSaveView(PolicyEditorView):
    """Create or change one category threshold; an htmx request gets its row back.

    Without htmx, success goes back to the editor and a refusal renders the
    editor with the refused row holding the user's input.
    """

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = ThresholdForm(request.POST)
        threshold = self._threshold(request.POST.get("threshold", ""))
        entry = catalogue.category(request.POST.get("category", "")) or catalogue.categories()[0]
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(
                form,
                lambda: rules.threshold_save(
                    policy=self.policy,
                    actor=request.user,
                    revision=form.cleaned_data["revision"],
                    threshold=threshold,
                    **form.service_fields(),
                ),
                field="review_at",
            )
        if outcome.ok:
            return self._saved(entry, outcome.result)
        row = ThresholdRow(entry, threshold, form, self._floors(entry), outcome.stale)
        return self._refused(row)

    def _threshold(self, pk: str) -> CategoryThreshold | None:
        return self.get_rule(CategoryThreshold, int(pk)) if pk.isdigit() else None

    def _floors(self, entry) -> list:
        return floors_for(entry, selectors.floor())

    def _saved(self, entry, threshold):
        if not self.request.htmx:
            messages.success(self.request, f"Saved the threshold for {entry.name}.")
            return redirect(self._editor_url())
        form = row_form(entry, threshold, self.policy.revision)
        row = ThresholdRow(entry, threshold, form, self._floors(entry))
        return announce_revision(self._render_row(row, saved=True), self.policy)

    def _refused(self, row: ThresholdRow):
        status = Outcome(stale=row.stale).status
        if self.request.htmx:
            return self._render_row(row, status=status)
        self.bound_row = row
        return self.render_to_response(self.get_context_data(), status=status)

    def _render_row(self, row: ThresholdRow, status: int = 200, saved: bool = False):
        context = {
            "tenant": self.tenant,
            "policy": self.policy,
            "can_edit": self.has_right(Right.EDIT),
            "row": row,
            "saved": saved,
            "editor_url": editor_url(self.tenant, self.policy),
        }
        return TemplateResponse(self.request, ROW_TEMPLATE, context, status=status)

    def _editor_url(self) -> str:
        return editor_url(self.tenant, self.policy, "thresholds")


class ThresholdResetView(ThresholdSaveView):
    """Delete the policy's threshold: the category falls back to the catalogue default."""

    def post(self, request, *args, **kwargs):
        threshold = self.get_rule(CategoryThreshold, kwargs["pk"])
        entry = catalogue.category(threshold.category)
        form = DraftForm(request.POST)
        form.is_valid()
        outcome = attempt(
            form,
            lambda: rules.threshold_delete(
                threshold=threshold, actor=request.user, revision=revision_of(request)
            ),
        )
        if not outcome.ok:
            kept = row_form(entry, threshold, revision_of(request) or self.policy.revision)
            stale = outcome.stale or " ".join(form.non_field_errors())
            return self._refused(ThresholdRow(entry, threshold, kept, self._floors(entry), stale))
        return self._reset(entry)

    def _reset(self, entry):
        if not self.request.htmx:
            messages.success(self.request, f"{entry.name} is back to the catalogue default.")
            return redirect(self._editor_url())
        remaining = scoped(CategoryThreshold, self.tenant).filter(
            policy=self.policy, category=entry.id
        )
        if remaining.exists():
            return announce_revision(HttpResponse(""), self.policy)
        form = row_form(entry, None, self.policy.revision)
        row = ThresholdRow(entry, None, form, self._floors(entry))
        return announce_revision(self._render_row(row, saved=True), self.policy)
