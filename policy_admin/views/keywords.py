"""Keyword sets: create, edit the match options, import terms, search inside a set, delete."""

from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.generic import TemplateView

from policy_admin.forms.policies import KeywordSetCreateForm, KeywordSetForm, TermsImportForm
from policy_admin.models import KeywordRuleSet
from policy_admin.selectors import policies as selectors
from policy_admin.selectors import robustness
from policy_admin.services import rules, terms
from policy_admin.views.base import (
    ConfirmDeleteView,
    Outcome,
    PolicyPageMixin,
    PolicyPageView,
    attempt,
)

SEARCH_LIMIT = 100


def refused_field(error) -> str:
    """Where a keyword set's refusal belongs: the allow list, or else the terms."""
    return "allow_list" if "allow-list" in error.message.lower() else "terms"


def keyword_set_url(keyword_set: KeywordRuleSet, tenant) -> str:
    kwargs = {"tenant": tenant.slug, "slug": keyword_set.policy.slug, "pk": keyword_set.pk}
    return reverse("keyword-set", kwargs=kwargs)


class KeywordSetCreateView(PolicyPageView):
    """A new keyword set, optionally with its first terms pasted in."""

    template_name = "policy_admin/keyword_set_form.html"

    def get_context_data(self, **kwargs):
        initial = {"revision": self.policy.revision}  # the form's fields show the defaults
        kwargs.setdefault("form", KeywordSetCreateForm(initial=initial))
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        form = KeywordSetCreateForm(request.POST)
        outcome = Outcome()
        if form.is_valid():
            text = form.cleaned_data["terms"]
            outcome = attempt(
                form,
                lambda: rules.keyword_set_save(
                    policy=self.policy,
                    actor=request.user,
                    revision=form.cleaned_data["revision"],
                    terms=terms.terms_from_text(text) if text.strip() else None,
                    **form.service_fields(),
                ),
                field=refused_field,
            )
        if outcome.ok:
            keyword_set, report = outcome.result
            counted = f" with {report.summary()}" if report else ""
            messages.success(request, f"Created keyword set {keyword_set.name}{counted}.")
            return redirect(keyword_set_url(keyword_set, self.tenant))
        context = self.get_context_data(form=form, stale=outcome.stale)
        return self.render_to_response(context, status=outcome.status)


class KeywordSetMixin(PolicyPageMixin):
    def keyword_set(self) -> KeywordRuleSet:
        if not hasattr(self, "_keyword_set"):
            self._keyword_set = self.get_rule(KeywordRuleSet, self.kwargs["pk"])
        return self._keyword_set


class KeywordSetView(KeywordSetMixin, TemplateView):
    """One keyword set: its terms (search, import) and its match options."""

    template_name = "policy_admin/keyword_set.html"

    def get_context_data(self, **kwargs):
        keyword_set = self.keyword_set()
        query = self.request.GET.get("q", "").strip()
        found, count = selectors.keyword_terms_search(
            keyword_set=keyword_set, query=query, limit=SEARCH_LIMIT
        )
        revision = {"revision": self.policy.revision}
        kwargs.setdefault("form", KeywordSetForm(initial={**_options(keyword_set), **revision}))
        kwargs.setdefault("import_form", TermsImportForm(initial=revision))
        return super().get_context_data(
            keyword_set=keyword_set,
            query=query,
            found=found,
            found_count=count,
            **robustness_context(keyword_set),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        """Save the set's name, action and match options."""
        keyword_set = self.keyword_set()
        form = KeywordSetForm(request.POST)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(
                form,
                lambda: rules.keyword_set_save(
                    policy=self.policy,
                    actor=request.user,
                    revision=form.cleaned_data["revision"],
                    keyword_set=keyword_set,
                    **form.service_fields(),
                ),
                field="allow_list",
            )
        if outcome.ok:
            messages.success(request, f"Saved the options of {keyword_set.name}.")
            return redirect(keyword_set_url(keyword_set, self.tenant))
        keyword_set.refresh_from_db()
        context = self.get_context_data(form=form, options_stale=outcome.stale)
        return self.render_to_response(context, status=outcome.status)


def _options(keyword_set: KeywordRuleSet) -> dict:
    keys = KeywordSetForm.OPTION_KEYS
    return {**{k: getattr(keyword_set, k) for k in keys}, "allow_list": keyword_set.allow_list}


class KeywordTermsImportView(KeywordSetView):
    """Add or replace terms from pasted text or a TXT/CSV file, then show the import report."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        keyword_set = self.keyword_set()
        form = TermsImportForm(request.POST, request.FILES)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(form, lambda: self._import(form), field="file")
        if outcome.ok:
            report, source = outcome.result
            context = self.get_context_data(report=report, source=source)
            return self.render_to_response(context)
        keyword_set.refresh_from_db()
        context = self.get_context_data(import_form=form, import_stale=outcome.stale)
        return self.render_to_response(context, status=outcome.status)

    def _import(self, form: TermsImportForm):
        data = form.cleaned_data
        upload = data["file"]
        if upload:
            lines = terms.terms_from_file(
                upload.read(), filename=upload.name, column=data["column"]
            )
            source = upload.name
        else:
            lines, source = terms.terms_from_text(data["text"]), "pasted text"
        report = rules.keyword_terms_import(
            keyword_set=self.keyword_set(),
            actor=self.request.user,
            revision=data["revision"],
            lines=lines,
            replace=data["replace"],
            source=source,
        )
        return report, source


class KeywordTermsSearchView(KeywordSetMixin, TemplateView):
    """Terms of the set containing the query, for the search box (an htmx partial)."""

    template_name = "policy_admin/partials/term_search.html"

    def get(self, request, *args, **kwargs):
        if not request.htmx:
            url = keyword_set_url(self.keyword_set(), self.tenant)
            return redirect(f"{url}?{request.GET.urlencode()}")
        query = request.GET.get("q", "").strip()
        found, count = selectors.keyword_terms_search(
            keyword_set=self.keyword_set(), query=query, limit=SEARCH_LIMIT
        )
        context = {"keyword_set": self.keyword_set(), "query": query, "found": found}
        context["found_count"] = count
        return TemplateResponse(request, self.template_name, context)


def robustness_context(keyword_set: KeywordRuleSet) -> dict:
    """The set's latest robustness report as its page shows it."""
    report = robustness.robustness_latest(keyword_set=keyword_set)
    finished = report is not None and report.result is not None
    return {
        "robustness": report,
        "robustness_current": finished and robustness.robustness_is_current(report, keyword_set),
        "pairs_escaping": [p for p in report.result["pairs"] if p["escaped_count"]]
        if finished
        else [],
    }


class KeywordRobustnessView(KeywordSetMixin, TemplateView):
    """The set's robustness report (an htmx partial, polled while the report runs)."""

    template_name = "policy_admin/partials/robustness.html"

    def get(self, request, *args, **kwargs):
        if not request.htmx:
            return redirect(keyword_set_url(self.keyword_set(), self.tenant))
        return self.render_to_response(
            self.get_context_data(
                keyword_set=self.keyword_set(), **robustness_context(self.keyword_set())
            )
        )


class KeywordSetDeleteView(ConfirmDeleteView):
    model = KeywordRuleSet
    anchor = "keywords"
    consequence = "Every term of the set goes with it."

    def describe(self, obj) -> str:
        return f"the keyword set “{obj.name}” ({obj.term_count:,} terms)"

    def delete(self, obj, actor, revision):
        rules.keyword_set_delete(keyword_set=obj, actor=actor, revision=revision)
