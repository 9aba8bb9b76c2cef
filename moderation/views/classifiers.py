"""Classifier pages of a policy: list and create, train, read a version, compare, use one."""

from functools import cached_property

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView

from kernel.errors import ApplicationError
from kernel.registry import clip_calibrated
from moderation.engine.decision import ACTIONS
from moderation.forms.classifiers import (
    ClassifierForm,
    ClassifierPageForm,
    SendIssuesForm,
    TrainForm,
    UseVersionForm,
)
from moderation.forms.fields import error_text
from moderation.models import ReviewQueue, SampleSet
from moderation.selectors import classifiers as selectors
from moderation.selectors.review import review_queue_list
from moderation.services import classifiers as training
from moderation.services.review import default_queue
from moderation.services.review_samples import label_issues_send
from policy_admin.models import CustomClassifier
from policy_admin.models.rules import RULE_ACTIONS
from policy_admin.services import classifiers as authoring
from policy_admin.views.base import Outcome, PolicyPageMixin, attempt
from tenants.scoping import scoped


def classifier_url(classifier: CustomClassifier, **query) -> str:
    url = reverse(
        "classifier",
        kwargs={
            "tenant": classifier.tenant.slug,
            "slug": classifier.policy.slug,
            "pk": classifier.pk,
        },
    )
    extra = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{url}?{extra}" if extra else url


LEGENDS = {
    "positive": "Positives: samples that match every field given",
    "negative": "Negatives: samples that match every field given (a positive wins)",
}


def form_values(classifier: CustomClassifier | None = None, data=None) -> dict:
    """What the classifier form shows: posted data, else the classifier's settings or defaults."""
    if data is not None:
        get = data.get
        sides = [
            {"name": side, "legend": LEGENDS[side], "actions": data.getlist(f"{side}_actions"),
             "categories": get(f"{side}_categories", ""), "tags": get(f"{side}_tags", "")}
            for side in LEGENDS
        ]  # fmt: skip
        keys = ("name", "target", "threshold", "target_precision", "action")
        return {**{k: get(k, "") for k in keys}, "sides": sides}
    if classifier is None:
        classifier = CustomClassifier(positives={}, negatives={})
    rules = {"positive": classifier.positives, "negative": classifier.negatives}
    return {
        "name": classifier.name,
        "target": classifier.target,
        "threshold": classifier.threshold,
        "target_precision": classifier.target_precision,
        "action": classifier.action,
        "sides": [
            {
                "name": side,
                "legend": LEGENDS[side],
                "actions": rules[side].get("actions", []),
                "categories": ", ".join(rules[side].get("categories", [])),
                "tags": ", ".join(rules[side].get("tags", [])),
            }
            for side in LEGENDS
        ],  # fmt: skip
    }


class ClassifierListView(PolicyPageMixin, TemplateView):
    """The policy's classifiers; posting the form creates one."""

    template_name = "moderation/classifier_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            classifiers=selectors.classifier_list(policy=self.policy),
            actions=ACTIONS,
            rule_actions=RULE_ACTIONS,
        )
        context.setdefault("values", form_values())
        context.setdefault("error", "")
        return context

    def post(self, request, *args, **kwargs):
        form = ClassifierForm(request.POST)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(
                form,
                lambda: authoring.classifier_save(
                    policy=self.policy,
                    actor=request.user,
                    revision=form.cleaned_data["revision"],
                    **form.service_fields(),
                ),
            )
        if outcome.ok:
            return redirect(classifier_url(outcome.result))
        context = self.get_context_data(
            error=outcome.stale or error_text(form), values=form_values(data=request.POST)
        )
        return self.render_to_response(context, status=outcome.status)


class ClassifierMixin(PolicyPageMixin):
    """A page of one classifier of the policy; another policy's or tenant's id is a 404."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            actions=ACTIONS, rule_actions=RULE_ACTIONS, clip_calibrated=clip_calibrated()
        )
        return context

    @cached_property
    def classifier(self) -> CustomClassifier:
        return self.get_rule(CustomClassifier, self.kwargs["pk"])


class ClassifierView(ClassifierMixin, TemplateView):
    """Trainings with progress, a version's metrics and plots, label issues, a comparison."""

    template_name = "moderation/classifier.html"

    def get_template_names(self):
        if ClassifierPageForm(self.request.GET).value("part") == "trainings":
            return ["moderation/partials/classifier_trainings.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = ClassifierPageForm(self.request.GET)
        classifier = self.classifier
        versions = {v.number: v for v in classifier.versions.all()}
        shown = (
            versions.get(query.value("show"))
            or classifier.version
            or next(iter(versions.values()), None)
        )
        runs = selectors.training_list(classifier=classifier)
        context.update(
            classifier=classifier,
            trainings=runs,
            active=any(r.is_active for r in runs),
            versions=list(versions.values()),
            shown=shown,
            plots=selectors.version_plots(shown) if shown else None,
            sample_sets=selectors.sample_set_choices(tenant=self.tenant),
            min_counts=(training.MIN_POSITIVES, training.MIN_NEGATIVES),
            issues=[],
            queues=review_queue_list(tenant=self.tenant),
            compare=None,
        )
        context.setdefault("values", form_values(classifier))
        context.setdefault("error", "")
        if shown is not None and hasattr(shown, "training_run"):
            context["issues"] = selectors.label_issue_samples(shown.training_run)
        first, second = versions.get(query.value("first")), versions.get(query.value("second"))
        if first and second:
            context["compare"] = {"first": first, "second": second,
                                  **selectors.version_compare(first, second)}  # fmt: skip
        return context

    def post(self, request, *args, **kwargs):
        """Change the classifier's settings."""
        form = ClassifierForm(request.POST)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(
                form,
                lambda: authoring.classifier_save(
                    policy=self.policy,
                    actor=request.user,
                    revision=form.cleaned_data["revision"],
                    classifier=self.classifier,
                    **form.service_fields(),
                ),
            )
        if outcome.ok:
            messages.success(request, f"Saved {self.classifier.name}.")
            return redirect(classifier_url(self.classifier))
        context = self.get_context_data(
            error=outcome.stale or error_text(form), values=form_values(data=request.POST)
        )
        return self.render_to_response(context, status=outcome.status)


class ClassifierTrainView(ClassifierMixin, TemplateView):
    """Posting a sample set id queues a training; too few samples is said on the page."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = TrainForm(request.POST)
        if not form.is_valid():
            messages.error(request, error_text(form))
            return redirect(classifier_url(self.classifier))
        sample_set = get_object_or_404(
            scoped(SampleSet, self.tenant), pk=form.cleaned_data["sample_set"]
        )
        try:
            training.training_start(
                classifier=self.classifier, sample_set=sample_set, actor=request.user
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect(classifier_url(self.classifier))


class ClassifierUseView(ClassifierMixin, TemplateView):
    """Posting a version number writes it into the draft (audited)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = UseVersionForm(request.POST)
        if not form.is_valid():
            messages.error(request, error_text(form))
            return redirect(classifier_url(self.classifier))
        version = get_object_or_404(self.classifier.versions, number=form.cleaned_data["version"])
        outcome = attempt(
            form,
            lambda: authoring.classifier_version_use(
                classifier=self.classifier,
                version=version,
                actor=request.user,
                revision=form.cleaned_data["revision"],
                threshold=form.cleaned_data["threshold"],
            ),
        )
        if outcome.ok:
            messages.success(
                request, f"The draft now uses {self.classifier.name} v{version.number}."
            )
        else:
            messages.error(request, outcome.stale or error_text(form))
        return redirect(classifier_url(self.classifier, show=version.number))


class ClassifierSendIssuesView(ClassifierMixin, TemplateView):
    """Posting a version number sends its training's likely label errors to a review queue."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = SendIssuesForm(request.POST)
        if not form.is_valid():
            messages.error(request, error_text(form))
            return redirect(classifier_url(self.classifier))
        version = get_object_or_404(self.classifier.versions, number=form.cleaned_data["version"])
        run = getattr(version, "training_run", None)
        if run is None:
            raise Http404("This version has no training, so no label issues.")
        queue_id = form.cleaned_data["queue"]
        queue = (
            get_object_or_404(scoped(ReviewQueue, self.tenant), pk=queue_id)
            if queue_id is not None
            else default_queue(self.tenant)
        )
        sent = label_issues_send(run=run, queue=queue, actor=request.user)
        waiting = f"; {sent.waiting} were already waiting" if sent.waiting else ""
        missing = f"; {sent.missing} are no longer in their set" if sent.missing else ""
        messages.success(
            request,
            f"Sent {sent.sent} likely label error{'s' if sent.sent != 1 else ''} to the review "
            f"queue “{queue.name}”{waiting}{missing}. Their labels are written back to the "
            "samples once reviewed, for the next training.",
        )
        return redirect(classifier_url(self.classifier, show=version.number))
