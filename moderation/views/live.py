"""The live test console: type a prompt, drop images, see what the draft decides and why."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView

from kernel import registry
from kernel.errors import ApplicationError
from kernel.uploads import ImageUpload
from moderation.forms.fields import error_text
from moderation.forms.live import ConsoleForm, LiveSampleForm, LiveTestForm
from moderation.models import SampleSet, TestRun
from moderation.selectors import classifiers as classifier_selectors
from moderation.selectors import runs as selectors
from moderation.services import lifecycle, runs, samples
from moderation.views import presenters
from policy_admin.models import ConceptImage, PolicyVersion
from policy_admin.views.base import INVALID, Outcome, PolicyPageMixin, attempt
from tenants.roles import Right
from tenants.scoping import scoped

HISTORY_SIZE = 20


class RunPageMixin(PolicyPageMixin):
    """A policy page that also resolves one of the policy's runs from the URL."""

    def get_run(self) -> TestRun:
        """The run, failed first if its worker went silent (a page shows its current state)."""
        try:
            run = selectors.run_get(tenant=self.tenant, pk=self.kwargs["pk"])
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
        tests = selectors.run_list(tenant=self.tenant, policy=self.policy, kind=TestRun.Kind.LIVE)
        history = list(tests[:HISTORY_SIZE])
        chosen = ConsoleForm(self.request.GET).value("run")
        shown = next((r for r in history if r.pk == chosen), None)
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
        form = LiveTestForm(request.POST, request.FILES)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(form, lambda: self.start(**form.cleaned_data))
        if not outcome.ok:
            if request.htmx:
                return self.render_partial(
                    "moderation/partials/live_error.html",
                    {"error": error_text(form)},
                    status=INVALID,
                )
            messages.error(request, error_text(form))
            return redirect(self.console_url())
        run = outcome.result
        if request.htmx:
            return self.render_partial(
                "moderation/partials/live_run.html",
                {"run": run, **run_context(self.tenant, run)},
                status=202,
            )
        return redirect(f"{self.console_url()}?run={run.pk}")

    def start(self, *, prompt: str, images: list, version: int | None) -> TestRun:
        try:
            chosen = selectors.run_version_get(tenant=self.tenant, pk=version)
        except PolicyVersion.DoesNotExist:
            raise Http404("No such version.") from None
        return runs.live_test_start(
            policy=self.policy,
            actor=self.request.user,
            prompt=prompt,
            uploads=[ImageUpload.from_file(f) for f in images],
            version=chosen,
        )

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
        form = LiveSampleForm(request.POST)
        outcome, sample_set = Outcome(), None
        if form.is_valid():
            fields = dict(form.cleaned_data)
            sample_set = get_object_or_404(
                scoped(SampleSet, self.tenant), pk=fields.pop("sample_set")
            )
            position = fields.pop("input") or 0
            outcome = attempt(
                form,
                lambda: samples.sample_add_from_run(
                    run=run, position=position, sample_set=sample_set, **fields
                ),
            )
        sample, error = outcome.result, "" if outcome.ok else error_text(form)
        if request.htmx:
            context = self.get_context_data(sample=sample, sample_set=sample_set, error=error)
            return self.render_to_response(context, status=400 if error else 201)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Added {sample.external_id} to “{sample_set.name}”.")
        url = reverse("live-console", kwargs={"tenant": kwargs["tenant"], "slug": kwargs["slug"]})
        return redirect(f"{url}?run={run.pk}")


def run_context(tenant, run: TestRun) -> dict:
    """Everything the run partial shows besides the run itself."""
    views = presenters.decisions(run)
    # Decisions follow the run's images in position order (scoring.run_live_test).
    for view, image in zip(views, run.images.all(), strict=False):
        view.image_url = image.image.url
    neighbours = classifier_selectors.neighbour_samples(
        tenant=tenant, neighbours=(run.result or {}).get("neighbours", [])
    )
    for view, found in zip(views, neighbours, strict=False):
        view.neighbours = found
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
