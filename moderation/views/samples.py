"""Sample set pages: list and create sets, page through samples, import archives, edit labels."""

from functools import cached_property

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView

from kernel.confirm import Confirmation
from kernel.errors import ApplicationError
from kernel.uploads import ImageUpload
from moderation.engine.catalogue import load_catalogue
from moderation.forms.fields import error_text
from moderation.forms.samples import (
    LabelsForm,
    SampleAddForm,
    SampleFilterForm,
    SampleImportForm,
    SampleSetForm,
)
from moderation.models import Sample, SampleImport, SampleSet
from moderation.selectors import runs as selectors
from moderation.services import samples
from policy_admin.models import Policy
from policy_admin.views.base import INVALID, Outcome, attempt
from tenants.scoping import TenantViewMixin, scoped

PAGE_SIZE = 50


def set_url(sample_set: SampleSet, **query) -> str:
    url = reverse("sample-set", kwargs={"tenant": sample_set.tenant.slug, "pk": sample_set.pk})
    extra = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{url}?{extra}" if extra else url


class SampleSetListView(TenantViewMixin, TemplateView):
    """The tenant's sample sets; posting creates one."""

    template_name = "moderation/sample_set_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(nav="samples", sample_sets=selectors.sample_set_list(tenant=self.tenant))
        return context

    def post(self, request, *args, **kwargs):
        form = SampleSetForm(request.POST)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(
                form,
                lambda: samples.sample_set_create(
                    tenant=self.tenant, actor=request.user, **form.cleaned_data
                ),
            )
        if outcome.ok:
            return redirect(set_url(outcome.result))
        context = self.get_context_data(error=error_text(form), form=form.data)
        return self.render_to_response(context, status=INVALID)


class SampleSetMixin(TenantViewMixin):
    """A page of one of the tenant's sample sets; another tenant's set is a 404."""

    @cached_property
    def sample_set(self) -> SampleSet:
        return get_object_or_404(scoped(SampleSet, self.tenant), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(nav="samples", sample_set=self.sample_set, actions=selectors.ACTION_LABELS)
        return context


class SampleSetView(SampleSetMixin, TemplateView):
    """A set's samples with thumbnails, filtered by tag and label, fifty to a page."""

    template_name = "moderation/sample_set.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = SampleFilterForm(self.request.GET)
        tag, label = query.value("tag", ""), query.value("label", "")
        found = selectors.sample_list(
            sample_set=self.sample_set, tag=tag, label=label, sample=query.value("sample")
        )
        page = Paginator(found, PAGE_SIZE).get_page(query.value("page"))
        context.update(
            nav="samples",
            sample_set=self.sample_set,
            page_obj=page,
            tag=tag,
            label=label,
            one_sample=query.value("sample"),
            labels=[*selectors.ACTION_LABELS, *load_catalogue().ids()],
            last_import=self._last_import(query.value("import")),
            policies=scoped(Policy, self.tenant).order_by("name"),
            versions=selectors.run_version_choices(tenant=self.tenant),
            runs=selectors.run_list(tenant=self.tenant, kind="suite").filter(
                sample_set=self.sample_set
            )[:20],
        )
        return context

    def _last_import(self, pk: int | None):
        if pk is None:
            return None
        return scoped(SampleImport, self.tenant).filter(sample_set=self.sample_set, pk=pk).first()

    def post(self, request, *args, **kwargs):
        """Rename the set or change its description."""
        form = SampleSetForm(request.POST)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(
                form,
                lambda: samples.sample_set_update(sample_set=self.sample_set, **form.cleaned_data),
            )
        if not outcome.ok:
            messages.error(request, error_text(form))
        return redirect(set_url(self.sample_set))


class SampleAddView(SampleSetView):
    """Posting one sample (prompt and/or image, labels) adds it, as the importer would."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = SampleAddForm(request.POST, request.FILES)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(form, lambda: self.add(**form.cleaned_data))
        if not outcome.ok:
            context = self.get_context_data(add_error=error_text(form), add_form=form.data)
            return self.render_to_response(context, status=INVALID)
        sample = outcome.result
        messages.success(request, f"Added {sample.external_id} to “{self.sample_set.name}”.")
        return redirect(set_url(self.sample_set))

    def add(self, *, image, **fields):
        upload = ImageUpload.from_file(image) if image else None
        return samples.sample_add(sample_set=self.sample_set, image=upload, **fields)


class SampleSetImportView(SampleSetMixin, TemplateView):
    """Posting an archive imports it; the set page then shows the report."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = SampleImportForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, error_text(form))
            return redirect(set_url(self.sample_set))
        upload = form.cleaned_data["archive"]
        try:
            report = samples.sample_set_import(
                sample_set=self.sample_set,
                actor=request.user,
                file_name=upload.name,
                data=upload.read(),
            )
        except ApplicationError as error:
            messages.error(request, f"Nothing was imported: {error.message}")
            return redirect(set_url(self.sample_set))
        return redirect(set_url(self.sample_set, **{"import": report.pk}))


class SampleImportErrorsView(SampleSetMixin, TemplateView):
    """The refused rows of one import, as a CSV download."""

    def get(self, request, *args, **kwargs):
        report = get_object_or_404(
            scoped(SampleImport, self.tenant).filter(sample_set=self.sample_set),
            pk=kwargs["import_pk"],
        )
        response = HttpResponse(
            selectors.sample_import_error_csv(report), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="import-{report.pk}-errors.csv"'
        return response


class SampleSetDeleteView(SampleSetMixin, TemplateView):
    """Asks, then deletes a set with its samples and suite runs."""

    template_name = "confirm.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        name, pk = self.sample_set.name, self.sample_set.pk
        context["nav"] = "samples"
        context["confirm"] = Confirmation(
            title=f"Delete {name}",
            question=f"Delete the sample set “{name}”?",
            consequence=f"Its {self.sample_set.samples.count()} samples and every suite run "
            "made on it go with it. This cannot be undone.",
            button="Delete",
            cancel_url=reverse("sample-set", kwargs={"tenant": self.tenant.slug, "pk": pk}),
            testid="confirm-delete",
        )
        return context

    def post(self, request, *args, **kwargs):
        name = self.sample_set.name
        samples.sample_set_delete(sample_set=self.sample_set)
        messages.success(request, f"Deleted the sample set “{name}”.")
        return redirect("sample-set-list", tenant=self.tenant.slug)


class SampleLabelView(SampleSetMixin, TemplateView):
    """Posting a sample's labels saves them; htmx gets the row back, others the page."""

    template_name = "moderation/partials/sample_row.html"

    def post(self, request, *args, **kwargs):
        try:
            sample = scoped(Sample, self.tenant).get(
                sample_set=self.sample_set, pk=kwargs["sample_pk"]
            )
        except Sample.DoesNotExist:
            raise Http404("No such sample.") from None
        form = LabelsForm(request.POST)
        outcome = Outcome()
        if form.is_valid():
            outcome = attempt(
                form, lambda: samples.sample_update_labels(sample=sample, **form.cleaned_data)
            )
        error = "" if outcome.ok else error_text(form)
        if error:
            sample.refresh_from_db()
        if not request.htmx:
            if error:
                messages.error(request, error)
            return redirect(set_url(self.sample_set))
        context = self.get_context_data(sample=sample, sample_set=self.sample_set, error=error)
        return self.render_to_response(context, status=INVALID if error else 200)
