"""Django admin for the scoring side: runs and production read-only, alert rules editable."""

from django.apps import apps
from django.contrib import admin

from kernel.admin import ReadOnlyAdmin
from moderation.models import (
    AlertEvent,
    AlertRule,
    DecisionRecord,
    Sample,
    SampleImport,
    SampleResult,
    SampleSet,
    TestRun,
    TestRunImage,
)


@admin.register(TestRun)
class TestRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "tenant", "policy", "kind", "status", "created_by", "created_at"]
    list_filter = ["tenant", "kind", "status"]


@admin.register(TestRunImage)
class TestRunImageAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "run", "width", "height"]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "kind", "policy", "enabled", "state", "state_since"]
    list_filter = ["tenant", "kind", "state"]


@admin.register(AlertEvent)
class AlertEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "rule", "state", "message"]


@admin.register(SampleSet)
class SampleSetAdmin(ReadOnlyAdmin):
    list_display = ["name", "tenant", "created_at"]


@admin.register(Sample)
class SampleAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "sample_set", "expected_action"]
    list_filter = ["tenant", "expected_action"]


@admin.register(SampleResult)
class SampleResultAdmin(ReadOnlyAdmin):
    list_display = ["run", "sample", "action"]


@admin.register(SampleImport)
class SampleImportAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "sample_set", "imported", "created_at"]


@admin.register(DecisionRecord)
class DecisionRecordAdmin(ReadOnlyAdmin):
    list_display = ["decided_at", "tenant", "policy", "channel", "action", "audited"]
    list_filter = ["tenant", "action", "audited"]
    exclude = ["thumbnail"]


# Batches, counts, queues, routing, items, claims, labels: read-only; changes go through services.
for _model in apps.get_app_config("moderation").get_models():
    if not admin.site.is_registered(_model):
        admin.site.register(_model, ReadOnlyAdmin)
