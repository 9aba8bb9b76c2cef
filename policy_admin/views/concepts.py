"""CLIP concepts: settings, example images (upload, positive/negative, remove), delete."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from kernel.uploads import ImageUpload
from policy_admin.forms.policies import ConceptForm, ConceptImagesForm, DraftForm
from policy_admin.models import ClipConcept, ConceptImage
from policy_admin.services import concepts
from policy_admin.views.base import (
    ConfirmDeleteView,
    Outcome,
    PolicyPageView,
    RuleFormView,
    announce_revision,
    attempt,
    revision_of,
)
from tenants.roles import Right
from tenants.scoping import scoped

GRID_TEMPLATE = "policy_admin/partials/concept_images.html"


def concept_url(tenant, concept: ClipConcept) -> str:
    kwargs = {"tenant": tenant.slug, "slug": concept.policy.slug, "pk": concept.pk}
    return reverse("concept", kwargs=kwargs)


def image_grid(concept: ClipConcept) -> dict:
    """The concept's images and whether it has enough positives to be published."""
    images = list(concept.images.all())
    positives = sum(1 for image in images if image.positive)
    return {
        "images": images,
        "positives": positives,
        "negatives": len(images) - positives,
        "needs_more": positives < ClipConcept.MIN_POSITIVES,
        "min_positives": ClipConcept.MIN_POSITIVES,
    }


class ConceptFormView(RuleFormView):
    """A new concept's name, action, method, threshold and text hints."""

    template_name = "policy_admin/concept_form.html"
    model = ClipConcept
    form_class = ConceptForm
    anchor = "concepts"
    error_field = "text_hints"
    saved_message = "Saved concept {rule}. Add at least three positive example images."

    def initial(self, obj) -> dict:
        if obj is None:
            return {"action": "review", "method": "prototype", "threshold": 0.5}
        fields = ("name", "action", "method", "threshold")
        return {**{f: getattr(obj, f) for f in fields}, "text_hints": "\n".join(obj.text_hints)}

    def save(self, form, obj):
        return concepts.concept_save(
            policy=self.policy,
            actor=self.request.user,
            revision=form.cleaned_data["revision"],
            concept=obj,
            **form.service_fields(),
        )

    def success_url(self, rule) -> str:
        return concept_url(self.tenant, rule)


class ConceptView(ConceptFormView):
    """One concept: its example images and its settings."""

    template_name = "policy_admin/concept.html"
    saved_message = "Saved concept {rule}."

    def get_context_data(self, **kwargs):
        kwargs.setdefault(
            "upload_form", ConceptImagesForm(initial={"revision": self.policy.revision})
        )
        return super().get_context_data(**image_grid(self.object), **kwargs)


class ConceptImagesUploadView(ConceptView):
    """Add example images; one bad file refuses the whole upload and names the file."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = ConceptImagesForm(request.POST, request.FILES)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(form, lambda: self._add(form), field="images")
        if outcome.ok:
            kind = "positive" if form.cleaned_data["positive"] else "negative"
            messages.success(request, f"Added {len(outcome.result)} {kind} example image(s).")
            return redirect(concept_url(self.tenant, self.object))
        context = self.get_context_data(upload_form=form, upload_stale=outcome.stale)
        return self.render_to_response(context, status=outcome.status)

    def _add(self, form):
        uploads = [ImageUpload.from_file(f) for f in form.cleaned_data["images"]]
        return concepts.concept_images_add(
            concept=self.object,
            actor=self.request.user,
            revision=form.cleaned_data["revision"],
            uploads=uploads,
            positive=form.cleaned_data["positive"],
        )


class ConceptImageActionView(PolicyPageView):
    """Base of the per-image actions: an htmx request gets the refreshed image grid back."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        concept = self.get_rule(ClipConcept, kwargs["pk"])
        image = get_object_or_404(
            scoped(ConceptImage, self.tenant).filter(concept=concept), pk=kwargs["image_pk"]
        )
        image.concept = concept
        form = DraftForm(request.POST)
        form.is_valid()
        outcome = attempt(form, lambda: self.act(image, revision_of(request)))
        refusal = outcome.stale or " ".join(form.non_field_errors())
        if not request.htmx:
            if outcome.ok:
                messages.success(request, self.done_message(image))
            else:
                messages.error(request, refusal)
            return redirect(concept_url(self.tenant, concept))
        return self._grid(concept, outcome, refusal)

    def _grid(self, concept: ClipConcept, outcome: Outcome, refusal: str):
        context = {
            "tenant": self.tenant,
            "policy": self.policy,
            "object": concept,
            "can_edit": self.has_right(Right.EDIT),
            "refusal": refusal,
            **image_grid(concept),
        }
        response = TemplateResponse(
            self.request, GRID_TEMPLATE, context, status=200 if outcome.ok else outcome.status
        )
        return announce_revision(response, self.policy) if outcome.ok else response

    def act(self, image: ConceptImage, revision: int | None) -> None:
        raise NotImplementedError

    def done_message(self, image: ConceptImage) -> str:
        raise NotImplementedError


class ConceptImagePositiveView(ConceptImageActionView):
    """Mark an image as a positive (positive=1) or negative example."""

    def act(self, image, revision):
        positive = self.request.POST.get("positive") == "1"
        concepts.concept_image_set_positive(
            image=image, positive=positive, actor=self.request.user, revision=revision
        )

    def done_message(self, image):
        kind = "positive" if image.positive else "negative"
        return f"{image.original_name} is now a {kind} example."


class ConceptImageRemoveView(ConceptImageActionView):
    def act(self, image, revision):
        concepts.concept_image_remove(image=image, actor=self.request.user, revision=revision)

    def done_message(self, image):
        return f"Removed {image.original_name}."


class ConceptDeleteView(ConfirmDeleteView):
    model = ClipConcept
    anchor = "concepts"
    consequence = "Its example images go with it."

    def describe(self, obj) -> str:
        return f"the concept “{obj.name}”"

    def delete(self, obj, actor, revision):
        concepts.concept_delete(concept=obj, actor=actor, revision=revision)
