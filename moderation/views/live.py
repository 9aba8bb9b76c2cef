"""The live test console: type a prompt, drop images, see what the draft decides and why."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView

from kernel import registry
from kernel.errors import ApplicationError
from kernel.http import int_or_404
from kernel.uploads import ImageUpload
from moderation.models import SampleSet, TestRun
from moderation.selectors import runs as selectors
from moderation.selectors.runs import run_get, run_list
from moderation.services import lifecycle, runs, samples
from moderation.views import presenters
from moderation.views.samples import split_list
from policy_admin.models import ConceptImage, PolicyVersion
from policy_admin.views.base import PolicyPageMixin
from tenants.roles import Right
from tenants.scoping import scoped

HISTORY_SIZE = 20


class RunPageMixin(PolicyPageMixin):
    """A policy page that also resolves one of the policy's runs from the URL."""

    def get_run(self) -> TestRun:
        try:
            run = run_get(tenant=self.tenant, pk=self.kwargs["pk"])
        except TestRun.DoesNotExist:
            raise Http404("No such test run.") from None
        if run.policy_id != self.policy.pk:
            raise Http404("No such test run.")
        return lifecycle.run_reap(run=run)


class LiveConsoleView(RunPageMixin, TemplateView):
    """The console page; posting it starts a live test of the draft."""

    template_name = "moderation/live_console.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        history = list(
            run_list(tenant=self.tenant, policy=self.policy, kind=TestRun.Kind.LIVE)[:HISTORY_SIZE]
        )
        shown = next((r for r in history if str(r.pk) == self.request.GET.get("run")), None)
        context.update(
            history=history,
            run=shown or (history[0] if history else None),
            clip_calibrated=registry.clip_calibrated(),
            max_images=runs.MAX_LIVE_IMAGES,
            versions=selectors.run_version_choices(tenant=self.tenant, policy=self.policy),
        )
        if context["run"] is not None:
            context.update(run_context(self.tenant, context["run"]))
        return context

    def post(self, request, *args, **kwargs):
        try:
            uploads = [ImageUpload.from_file(f) for f in request.FILES.getlist("images")]
            run = runs.live_test_start(
                policy=self.policy,
                actor=request.user,
                prompt=request.POST.get("prompt", ""),
                uploads=uploads,
                version=chosen_version(self.tenant, request.POST.get("version", "")),
            )
        except ApplicationError as error:
            if request.htmx:
                return self.render_partial(
                    "moderation/partials/live_error.html", {"error": error.message}, status=400
                )
            messages.error(request, error.message)
            return redirect(self.console_url())
        if request.htmx:
            return self.render_partial(
                "moderation/partials/live_run.html",
                {"run": run, **run_context(self.tenant, run)},
                status=202,
            )
        return redirect(f"{self.console_url()}?run={run.pk}")

    def console_url(self) -> str:
        return reverse(
            "live-console", kwargs={"tenant": self.tenant.slug, "slug": self.kwargs["slug"]}
        )

    def render_partial(self, template, extra, status=200):
        context = {
            "tenant": self.tenant,
            "policy": self.policy,
            "can_edit": self.has_right(Right.EDIT),
            **extra,
        }
        return self.response_class(
            request=self.request, template=template, context=context, status=status
        )


class LiveRunView(RunPageMixin, TemplateView):
    """One run's status and result: the partial that polls while the run is active."""

    template_name = "moderation/partials/live_run.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.get_run()
        context.update(run=run, policy=self.policy, **run_context(self.tenant, run))
        return context

    def get(self, request, *args, **kwargs):
        if not request.htmx:
            url = reverse(
                "live-console", kwargs={"tenant": kwargs["tenant"], "slug": kwargs["slug"]}
            )
            return redirect(f"{url}?run={kwargs['pk']}")
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        act = {"retry": runs.run_retry, "rerun": runs.run_rerun}.get(kwargs.get("action"))
        if act is None:
            raise Http404("Unknown action on a test run.")
        run = self.get_run()
        try:
            run = act(run=run, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        url = reverse("live-console", kwargs={"tenant": kwargs["tenant"], "slug": kwargs["slug"]})
        return redirect(f"{url}?run={run.pk}")


class LiveRunSampleView(RunPageMixin, TemplateView):
    """Posting copies one input of a live test, labelled, into one of the tenant's sample sets."""

    http_method_names = ["post"]
    template_name = "moderation/partials/live_sample_added.html"

    def post(self, request, *args, **kwargs):
        run = self.get_run()
        sample_set = get_object_or_404(
            scoped(SampleSet, self.tenant), pk=int_or_404(request.POST.get("sample_set"))
        )
        error, sample = "", None
        try:
            sample = samples.sample_add_from_run(
                run=run,
                position=int_or_404(request.POST.get("input", "0")),
                sample_set=sample_set,
                expected_action=request.POST.get("expected_action", ""),
                expected_categories=split_list(request.POST.get("expected_categories", "")),
                tags=split_list(request.POST.get("tags", "")),
                notes=request.POST.get("notes", ""),
            )
        except ApplicationError as refusal:
            error = refusal.message
        if request.htmx:
            context = self.get_context_data(sample=sample, sample_set=sample_set, error=error)
            return self.render_to_response(context, status=400 if error else 201)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Added {sample.external_id} to “{sample_set.name}”.")
        url = reverse("live-console", kwargs={"tenant": kwargs["tenant"], "slug": kwargs["slug"]})
        return redirect(f"{url}?run={run.pk}")


def chosen_version(tenant, value: str):
    """The version a form chose (its id), None for the draft; another tenant's id is a 404."""
    try:
        return selectors.run_version_get(tenant=tenant, pk=int_or_404(value) if value else None)
    except PolicyVersion.DoesNotExist:
        raise Http404("No such version.") from None


def run_context(tenant, run: TestRun) -> dict:
    """Everything the run partial shows besides the run itself."""
    views = presenters.decisions(run)
    concept_ids = {
        int(r["rule_id"].split(":", 1)[1]) for v in views for r in v.rules if r["kind"] == "concept"
    }
    thumbs: dict[str, list] = {}
    for image in scoped(ConceptImage, tenant).filter(concept_id__in=concept_ids, positive=True):
        thumbs.setdefault(f"concept:{image.concept_id}", []).append(image)
    return {
        "decisions": views,
        "concept_thumbs": thumbs,
        "unclaimed": lifecycle.run_unclaimed(run),
        "run_calibrated": all(v.calibrated for v in views),
        "sample_sets": selectors.sample_set_list(tenant=tenant) if views else [],
        "actions": selectors.ACTION_LABELS,
    }
