"""Review queue pages: the list with backlogs, one queue's settings, agreement and export,
and the tenant's ordered routing rules. The labelling page is in `reviewing`."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView

from kernel.errors import ApplicationError
from moderation.forms.review import ReviewExportForm, ReviewQueueForm, RoutingRuleForm
from moderation.models import ReviewQueue, RoutingRule
from moderation.selectors import review as selectors
from moderation.selectors.review_order import review_order_text
from moderation.services import review_queues as services
from moderation.services.review import default_queue
from moderation.services.review_export import review_export
from tenants.scoping import TenantViewMixin, scoped


class ReviewQueueListView(TenantViewMixin, TemplateView):
    """Every queue with its backlog, oldest item and overlap; editors add queues here."""

    template_name = "moderation/review/queues.html"

    def get_context_data(self, **kwargs):
        default_queue(self.tenant)  # made on first use, so that every tenant has one
        kwargs.setdefault("form", ReviewQueueForm())
        return super().get_context_data(
            nav="review", queues=selectors.review_queue_list(tenant=self.tenant), **kwargs
        )

    def post(self, request, *args, **kwargs):
        form = ReviewQueueForm(request.POST)
        if form.is_valid():
            try:
                queue = services.review_queue_create(tenant=self.tenant, **form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Created the queue {queue.name}.")
                return redirect("review-queue", tenant=self.tenant.slug, queue=queue.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class QueueMixin:
    """`queue()`: the tenant's queue named in the URL, with its figures, or a 404."""

    def queue(self) -> ReviewQueue:
        if not hasattr(self, "_queue"):
            default_queue(self.tenant)
            queues = selectors.review_queue_list(tenant=self.tenant)
            self._queue = get_object_or_404(queues, slug=self.kwargs["queue"])
        return self._queue


class ReviewQueueView(QueueMixin, TenantViewMixin, TemplateView):
    """One queue: figures, agreement on overlapped items, export, and (editors) its settings."""

    template_name = "moderation/review/queue.html"

    def get_context_data(self, **kwargs):
        queue = self.queue()
        kwargs.pop("queue", None)  # the URL's slug; the context gets the queue itself
        kwargs.setdefault("form", ReviewQueueForm(instance=queue))
        return super().get_context_data(
            nav="review",
            queue=queue,
            agreement=selectors.review_queue_agreement(queue=queue),
            export_form=ReviewExportForm(tenant=self.tenant),
            labels=selectors.review_label_list(tenant=self.tenant, queue=queue)[:20],
            order_text=review_order_text(queue),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        queue = self.queue()
        form = ReviewQueueForm(request.POST, instance=queue)
        if form.is_valid():
            try:
                services.review_queue_update(queue=queue, **form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Saved the settings of {queue.name}.")
                return redirect("review-queue", tenant=self.tenant.slug, queue=queue.slug)
        queue.refresh_from_db()
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ReviewQueueDeleteView(QueueMixin, TenantViewMixin, TemplateView):
    """POST deletes a queue (the form asks first); the default queue is refused, saying why."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        queue = self.queue()
        try:
            services.review_queue_delete(queue=queue)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("review-queue", tenant=self.tenant.slug, queue=queue.slug)
        messages.success(request, f"Deleted the queue {queue.name} with its items and labels.")
        return redirect("review-queues", tenant=self.tenant.slug)


class ReviewExportView(QueueMixin, TenantViewMixin, TemplateView):
    """POST: the queue's labelled items (all, or where a rule fired) into a sample set."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        queue = self.queue()
        form = ReviewExportForm(request.POST, tenant=self.tenant)
        if not form.is_valid():
            messages.error(request, "Choose the sample set to export into.")
            return redirect("review-queue", tenant=self.tenant.slug, queue=queue.slug)
        target = form.cleaned_data["sample_set"]
        try:
            reports = review_export(
                queue=queue,
                sample_set=target,
                actor=request.user,
                rule_id=form.cleaned_data["rule_id"].strip(),
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("review-queue", tenant=self.tenant.slug, queue=queue.slug)
        imported = sum(r.imported for r in reports)
        refused = sum(len(r.errors) for r in reports)
        text = f"Exported {imported} labelled item(s) from {queue.name} into {target.name}."
        if refused:
            text += f" {refused} refused by the importer (its report is on the set's page)."
        messages.success(request, text)
        return redirect("sample-set", tenant=self.tenant.slug, pk=target.pk)


class RoutingRulesView(TenantViewMixin, TemplateView):
    """The tenant's routing rules in the order they are tried; editors add, move, delete."""

    template_name = "moderation/review/routing.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", RoutingRuleForm(tenant=self.tenant))
        return super().get_context_data(
            nav="review", rules=selectors.routing_rule_list(tenant=self.tenant), **kwargs
        )

    def post(self, request, *args, **kwargs):
        default_queue(self.tenant)  # rules may send records to it
        form = RoutingRuleForm(request.POST, tenant=self.tenant)
        if form.is_valid():
            try:
                services.routing_rule_add(tenant=self.tenant, **form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Added the routing rule; it is tried last.")
                return redirect("review-routing", tenant=self.tenant.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class RoutingRuleChangeView(TenantViewMixin, TemplateView):
    """POST .../<pk>/up/, /down/ or /delete/ (the form asks before deleting)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        rule = get_object_or_404(scoped(RoutingRule, self.tenant), pk=self.kwargs["pk"])
        change = self.kwargs["change"]
        if change == "delete":
            services.routing_rule_delete(rule=rule)
            messages.success(request, f"Deleted routing rule {rule.position + 1}.")
        else:
            services.routing_rule_move(rule=rule, offset=-1 if change == "up" else 1)
        return redirect(reverse("review-routing", kwargs={"tenant": self.tenant.slug}))
