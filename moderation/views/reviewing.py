"""The reviewer page: claim the next item, answer with the keyboard, skip, undo, relabel.

The page shows the prompt and a blurred thumbnail; the policy's per-rule
explanation of an item appears only once the reviewer has answered it.
Keyboard shortcuts live in static/js/review.js.
"""

import mimetypes

from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from kernel.errors import ApplicationError
from moderation.engine.decision import ACTIONS
from moderation.forms.review import ReviewAnswerForm, ReviewRelabelForm
from moderation.models import ReviewClaim, ReviewItem, ReviewLabel
from moderation.selectors import review as selectors
from moderation.services import review as services
from moderation.services.review_labels import review_relabel, review_undo
from moderation.views.review import QueueMixin
from policy_admin.selectors.catalogue import category_choices
from tenants.roles import Right
from tenants.scoping import TenantViewMixin, scoped

REVIEW_RIGHTS = {"GET": Right.REVIEW, "HEAD": Right.REVIEW, "POST": Right.REVIEW}
# (action, label, key): the first letter of each action of the ladder.
ACTION_KEYS = [(a, a.capitalize(), a[0]) for a in ACTIONS]


class ReviewerMixin(QueueMixin, TenantViewMixin):
    """Renders the labelling work area: the page, or only its partial for htmx requests."""

    required_rights = REVIEW_RIGHTS
    template_name = "moderation/review/label.html"

    def active_claim(self, pk: int | None = None) -> ReviewClaim | None:
        """The reviewer's claim `pk` when given and still theirs, else the next claimed item."""
        claims = scoped(ReviewClaim, self.tenant).filter(
            item__queue=self.queue(),
            reviewer=self.request.user,
            answered_at__isnull=True,
            released=False,
            lease_expires_at__gt=timezone.now(),
        )
        if pk is not None and (claim := claims.filter(pk=pk).first()):
            return claim
        item = services.review_claim(self.queue(), self.request.user)
        return claims.filter(item=item).first() if item else None

    def work(self, *, claim_pk=None, error="", status=200, relabel=False):
        claim = self.active_claim(claim_pk)
        context = self.get_context_data(
            nav="review",
            queue=self.queue(),
            claim=claim,
            record=claim.item.record if claim else None,
            sample=claim.item.sample if claim else None,
            categories=category_choices(),
            action_keys=ACTION_KEYS,
            last=selectors.review_last_label(queue=self.queue(), reviewer=self.request.user),
            error=error,
            relabel=relabel,
        )
        if self.request.htmx:
            return self.response_class(
                request=self.request,
                template="moderation/review/partials/work.html",
                context=context,
                status=status,
            )
        return self.render_to_response(context, status=status)

    def back(self):
        if self.request.htmx:
            return self.work()
        return redirect("review-label", tenant=self.tenant.slug, queue=self.queue().slug)


class ReviewerPageView(ReviewerMixin, TemplateView):
    """GET: the item the reviewer holds, or the next one claimed for them."""

    def get(self, request, *args, **kwargs):
        return self.work()


class ReviewAnswerView(ReviewerMixin, TemplateView):
    """POST the action and categories of the claimed item; a late answer shows why it failed."""

    def post(self, request, *args, **kwargs):
        claim = get_object_or_404(
            scoped(ReviewClaim, self.tenant), pk=self.kwargs["pk"], item__queue=self.queue()
        )
        form = ReviewAnswerForm(request.POST)
        if not form.is_valid():
            return self.work(claim_pk=claim.pk, error="Choose an action: a, f, r or b.", status=400)
        seconds = form.cleaned_data["seconds"]
        if seconds is None:
            seconds = (timezone.now() - claim.claimed_at).total_seconds()
        try:
            services.review_answer(
                claim,
                request.user,
                form.cleaned_data["action"],
                form.cleaned_data["categories"],
                seconds,
            )
        except ApplicationError as error:
            return self.work(error=error.message, status=error.status_code)
        return self.back()


class ReviewSkipView(ReviewerMixin, TemplateView):
    """POST: give the claimed item back to the queue and claim the next."""

    def post(self, request, *args, **kwargs):
        claim = get_object_or_404(
            scoped(ReviewClaim, self.tenant),
            pk=self.kwargs["pk"],
            item__queue=self.queue(),
            reviewer=request.user,
        )
        services.review_skip(claim)
        return self.back()


class ReviewLabelChangeView(ReviewerMixin, TemplateView):
    """POST .../labels/<pk>/undo/ (while the lease holds) or .../relabel/ (any time)."""

    def post(self, request, *args, **kwargs):
        label = get_object_or_404(
            scoped(ReviewLabel, self.tenant),
            pk=self.kwargs["pk"],
            item__queue=self.queue(),
            reviewer=request.user,
        )
        if self.kwargs["change"] == "undo":
            try:
                claim = review_undo(label=label, reviewer=request.user)
            except ApplicationError as error:
                return self.work(error=error.message, status=error.status_code, relabel=True)
            return self.work(claim_pk=claim.pk)
        form = ReviewRelabelForm(request.POST)
        if not form.is_valid():
            return self.work(error="Choose an action to relabel with.", status=400, relabel=True)
        review_relabel(
            label=label,
            reviewer=request.user,
            action=form.cleaned_data["action"],
            categories=form.cleaned_data["categories"],
        )
        return self.back()


class ReviewThumbnailView(TenantViewMixin, View):
    """The JPEG thumbnail of an item's record, or a sample item's image (reviewers only;
    blurred by the page's CSS)."""

    required_rights = REVIEW_RIGHTS

    def get(self, request, *args, **kwargs):
        item = get_object_or_404(
            scoped(ReviewItem, self.tenant).select_related("record", "sample"),
            pk=self.kwargs["pk"],
        )
        if item.sample is not None:
            return _sample_image(item.sample)
        if not item.record.thumbnail:
            return HttpResponse(status=404)
        response = HttpResponse(bytes(item.record.thumbnail), content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=600"
        return response


def _sample_image(sample) -> HttpResponse:
    if not sample.image:
        return HttpResponse(status=404)
    try:
        handle = sample.image.open("rb")
    except OSError:
        return HttpResponse(status=404)
    response = FileResponse(handle, content_type=mimetypes.guess_type(sample.image.name)[0])
    response["Cache-Control"] = "private, max-age=600"
    return response
