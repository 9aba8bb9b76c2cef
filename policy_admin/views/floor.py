"""The platform floor, kept by staff: category limits, locked keyword sets, their audit log."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from policy_admin.forms.policies import FloorCategoryForm, FloorKeywordSetForm
from policy_admin.models import FloorKeywordSet
from policy_admin.selectors import catalogue
from policy_admin.selectors import policies as selectors
from policy_admin.services import floors, terms
from policy_admin.views.base import Outcome, attempt

FLOOR_EVENTS_SHOWN = 50


class StaffOnlyMixin:
    """Platform pages: login required, then staff only (a 403 saying so)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied(
                "Only the platform's staff keep the floor every tenant inherits. "
                "Tenants see it, locked, in each policy's editor."
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(nav="floor", **kwargs)


class FloorView(StaffOnlyMixin, TemplateView):
    """The floor's categories and locked keyword sets; the form sets one category's limits."""

    template_name = "policy_admin/floor.html"

    def get_context_data(self, **kwargs):
        if "form" not in kwargs:
            kwargs["form"] = FloorCategoryForm(initial=self._prefill())
        context = super().get_context_data(**kwargs)
        floor = selectors.floor()
        names = dict(catalogue.category_choices())
        for entry in floor["categories"]:
            entry.display_name = names.get(entry.category, entry.category)
        context.update(floor=floor, events=selectors.floor_audit_list()[:FLOOR_EVENTS_SHOWN])
        return context

    def _prefill(self) -> dict:
        """Editing an entry: its current limits, from the link on its row."""
        params = self.request.GET
        keys = ("category", "applies_to", "review_at", "block_at")
        return {k: params[k] for k in keys if k in params}

    def post(self, request, *args, **kwargs):
        form = FloorCategoryForm(request.POST)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(
                form,
                lambda: floors.floor_category_set(actor=request.user, **form.cleaned_data),
                field="review_at",
            )
        if outcome.ok:
            entry, tightened = outcome.result
            messages.success(request, _tightened_message(entry, tightened))
            return redirect("platform-floor")
        return self.render_to_response(self.get_context_data(form=form), status=outcome.status)


def _tightened_message(entry, tightened: list[str]) -> str:
    where = f"{entry.category} ({entry.get_applies_to_display().lower()})"
    if not tightened:
        return f"Saved the floor for {where}. No tenant's draft is looser than it."
    return (
        f"Saved the floor for {where}. It tightens {len(tightened)} tenant(s) whose drafts are "
        f"looser: {', '.join(tightened)}. Their next save of those thresholds must meet it."
    )


class FloorKeywordSetView(StaffOnlyMixin, TemplateView):
    """Create (no pk) or edit a locked keyword set of the floor; saving replaces its terms."""

    template_name = "policy_admin/floor_keyword_set.html"

    def get_object(self) -> FloorKeywordSet | None:
        pk = self.kwargs.get("pk")
        return get_object_or_404(FloorKeywordSet, pk=pk) if pk else None

    def get_context_data(self, **kwargs):
        obj = self.object
        if "form" not in kwargs:
            kwargs["form"] = FloorKeywordSetForm(initial=_initial(obj))
        return super().get_context_data(object=obj, **kwargs)

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = FloorKeywordSetForm(request.POST)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(form, lambda: self._save(form), field="terms")
        if outcome.ok:
            keyword_set, report = outcome.result
            summary = f"Saved locked keyword set {keyword_set.name}: {report.summary()}."
            messages.success(request, summary)
            return redirect("platform-floor")
        return self.render_to_response(self.get_context_data(form=form), status=outcome.status)

    def _save(self, form):
        return floors.floor_keyword_set_save(
            actor=self.request.user,
            keyword_set=self.object,
            terms=terms.terms_from_text(form.cleaned_data["terms"]),
            **form.service_fields(),
        )


def _initial(obj: FloorKeywordSet | None) -> dict:
    if obj is None:  # a new set: the form's fields show the defaults
        return {}
    keys = FloorKeywordSetForm.OPTION_KEYS
    return {
        **{k: getattr(obj, k) for k in keys},
        "allow_list": obj.allow_list,
        "terms": obj.terms,
    }
