"""Suite run pages: start a suite on a set, watch its progress, cancel it, read its results."""

from functools import cached_property

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from kernel.errors import ApplicationError
from moderation.forms.fields import error_text
from moderation.forms.suites import (
    SuiteCompareForm,
    SuiteResultsForm,
    SuiteStartForm,
    ThresholdApplyForm,
    TuneForm,
)
from moderation.models import TestRun
from moderation.selectors import compare, export
from moderation.selectors import runs as selectors
from moderation.services import lifecycle, suites, tuning
from moderation.views import presenters
from moderation.views.samples import SampleSetMixin, set_url
from policy_admin.models import Policy, PolicyVersion
from policy_admin.views.base import INVALID, Outcome, attempt
from tenants.scoping import TenantViewMixin, scoped

RESULTS_PAGE_SIZE = 50


class SuiteStartView(SampleSetMixin, TemplateView):
    """Posting a policy slug (and a version id, or none for the draft) starts a suite."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = SuiteStartForm(request.POST)
        if not form.is_valid():
            messages.error(request, error_text(form))
            return redirect(set_url(self.sample_set))
        policy = get_object_or_404(scoped(Policy, self.tenant), slug=form.cleaned_data["policy"])
        try:
            version = selectors.run_version_get(tenant=self.tenant, pk=form.cleaned_data["version"])
        except PolicyVersion.DoesNotExist:
            raise Http404("No such version.") from None
        try:
            run = suites.suite_start(
                sample_set=self.sample_set, policy=policy, actor=request.user, version=version
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect(set_url(self.sample_set))
        return redirect("suite-run", tenant=self.tenant.slug, pk=run.pk)


class SuiteRunMixin(TenantViewMixin):
    """A page of one of the tenant's suite runs; any other id is a 404."""

    @cached_property
    def run(self) -> TestRun:
        """The suite, queued again first if its worker went silent (pages show its state)."""
        try:
            run = selectors.run_get(
                tenant=self.tenant, pk=self.kwargs["pk"], kind=TestRun.Kind.SUITE
            )
        except TestRun.DoesNotExist:
            raise Http404("No such suite run.") from None
        return lifecycle.run_reap(run=run)


class SuiteRunView(SuiteRunMixin, TemplateView):
    """A suite's progress while it runs; its metrics and per-sample results once finished."""

    template_name = "moderation/suite_run.html"

    @cached_property
    def query(self) -> SuiteResultsForm:
        return SuiteResultsForm(self.request.GET)

    @property
    def polling(self) -> bool:
        return bool(self.request.htmx) and self.query.value("part") == "progress"

    def get_template_names(self):
        if self.polling:
            return ["moderation/partials/suite_progress.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.run
        context.update(nav="samples", run=run, **suites.suite_rate(run))
        if run.status == TestRun.Status.SUCCEEDED and not self.polling:
            context.update(self._results(run))
            context["comparable"] = (
                selectors.run_list(tenant=self.tenant, kind=TestRun.Kind.SUITE)
                .filter(sample_set=run.sample_set_id, status=TestRun.Status.SUCCEEDED)
                .exclude(pk=run.pk)[:20]
            )
            context["baseline"] = selectors.suite_impact_baseline(run=run)
        return context

    def _results(self, run) -> dict:
        show = self.query.value("show", "")
        rows = selectors.suite_results(run=run, show=show)
        page = Paginator(rows, RESULTS_PAGE_SIZE).get_page(self.query.value("page"))
        return {
            "show": show,
            "outcomes": selectors.OUTCOMES,
            "page_obj": page,
            "metrics": selectors.suite_metrics(run=run),
        }


class SuiteCancelView(SuiteRunMixin, TemplateView):
    """Posting cancels a queued or running suite."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            suites.suite_cancel(run=self.run)
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect("suite-run", tenant=self.tenant.slug, pk=self.run.pk)


class SuiteSampleView(SuiteRunMixin, TemplateView):
    """Why the suite decided what it did on one sample: the live console's explanation."""

    template_name = "moderation/suite_sample.html"

    def get_template_names(self):
        if self.request.htmx:
            return ["moderation/partials/suite_sample.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        result = get_object_or_404(
            selectors.suite_results(run=self.run), pk=self.kwargs["result_pk"]
        )
        sample = result.sample
        context.update(
            nav="samples",
            run=self.run,
            result=result,
            decision=presenters.decision_view(
                result.decision, prompt=sample.prompt, image=sample.image.name or None
            ),
            concept_thumbs={},
        )
        return context


class SuiteCompareView(SuiteRunMixin, TemplateView):
    """The impact preview: this suite against another finished one on the same set.

    Without `with`, a draft suite is compared with the latest published version's
    suite on the same set (`compare.suite_compare_with`).
    """

    template_name = "moderation/suite_compare.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(nav="samples", run=self.run)
        query = SuiteCompareForm(self.request.GET)
        query.is_valid()  # a `with` that is not a number names nothing: a 404 here
        try:
            other = compare.suite_compare_with(run=self.run, other_id=query.cleaned_data["with"])
            comparison = compare.suite_compare(before=other, after=self.run)
        except TestRun.DoesNotExist:
            raise Http404("No such suite run to compare with.") from None
        except ApplicationError as error:
            context["error"] = error.message
            return context
        context.update(other=other, comparison=comparison)
        return context


class SuiteTuneView(SuiteRunMixin, TemplateView):
    """Tune a category threshold on a finished suite; posting writes the value into the draft."""

    template_name = "moderation/suite_tune.html"

    def get_context_data(self, *, revision: int | None = None, **kwargs):
        context = super().get_context_data(**kwargs)
        query = TuneForm(self.request.GET)
        rules = tuning.tunable_rules(self.run)
        rule = query.value("rule") or next(iter(rules), "")
        target = query.value("target", TuneForm.DEFAULTS["target"])
        context.update(
            nav="samples",
            run=self.run,
            query=query,
            rules=rules,
            rule=rule,
            target=target,
            value=query.typed("value"),
            # The draft revision the page shows; applying is refused once the draft moved on.
            revision=revision or self.run.policy.revision,
        )
        if not rule:
            context["error"] = "This suite's policy has no thresholded rule to tune."
        elif not query.is_valid():
            context["error"] = error_text(query)
        else:
            try:
                context["tuning"] = tuning.tuning_get(
                    run=self.run,
                    rule_id=rule,
                    target=target,
                    value=query.value("value", TuneForm.DEFAULTS["value"]),
                )
            except ApplicationError as error:
                context["error"] = error.message
        return context

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        return self.render_to_response(context, status=INVALID if context["query"].errors else 200)

    def post(self, request, *args, **kwargs):
        form = ThresholdApplyForm(request.POST)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(form, lambda: self.apply(**form.cleaned_data))
        if outcome.ok:
            messages.success(request, "The draft's threshold is updated; run the suite again.")
            return redirect(request.get_full_path())
        messages.error(request, outcome.stale or error_text(form))
        context = self.get_context_data(revision=form.cleaned_data.get("revision"))
        return self.render_to_response(context, status=outcome.status)

    def apply(self, *, revision: int, rule: str, level: str, value: float):
        return tuning.threshold_apply(
            run=self.run,
            revision=revision,
            rule_id=rule,
            level=level,
            value=value,
            actor=self.request.user,
        )


class SuiteExportView(SuiteRunMixin, TemplateView):
    """A finished suite's results as CSV, JSON, or a printable report page."""

    template_name = "moderation/suite_report.html"

    def get(self, request, *args, **kwargs):
        if self.run.status != TestRun.Status.SUCCEEDED:
            raise Http404("This suite has not finished; there is nothing to export yet.")
        name = f"suite-{self.run.pk}"
        if kwargs["format"] == "csv":
            response = StreamingHttpResponse(
                export.csv_lines(self.run), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        if kwargs["format"] == "json":
            response = JsonResponse(export.as_json(self.run), json_dumps_params={"indent": 1})
            response["Content-Disposition"] = f'attachment; filename="{name}.json"'
            return response
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(run=self.run, metrics=selectors.suite_metrics(run=self.run))
        return context
