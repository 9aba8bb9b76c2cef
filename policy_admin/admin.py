"""Django admin: every model visible to superusers, read-only.

Changes go through the pages and the API, whose services check revisions and
floors and write the audit log; an admin form would bypass all three.
"""

from django.apps import apps
from django.contrib import admin

from kernel.admin import ReadOnlyAdmin
from policy_admin.models import (
    AuditEvent,
    CategoryThreshold,
    ClipConcept,
    ConceptImage,
    EmbeddingRuleSet,
    FloorCategory,
    FloorKeywordSet,
    KeywordRuleSet,
    Policy,
)


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "tenant", "revision", "updated_at"]
    list_filter = ["tenant"]
    search_fields = ["name", "slug"]


@admin.register(CategoryThreshold)
class CategoryThresholdAdmin(ReadOnlyAdmin):
    list_display = ["policy", "category", "applies_to", "review_at", "block_at", "enabled"]
    list_filter = ["tenant", "category"]


@admin.register(KeywordRuleSet, FloorKeywordSet)
class KeywordSetAdmin(ReadOnlyAdmin):
    list_display = ["name", "action", "term_count", "mode"]
    exclude = ["terms"]  # up to 200,000 lines


@admin.register(EmbeddingRuleSet)
class EmbeddingRuleSetAdmin(ReadOnlyAdmin):
    list_display = ["name", "policy", "action", "threshold"]


@admin.register(ClipConcept)
class ClipConceptAdmin(ReadOnlyAdmin):
    list_display = ["name", "policy", "action", "method", "threshold"]


@admin.register(ConceptImage)
class ConceptImageAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "concept", "positive", "width", "height"]


@admin.register(FloorCategory)
class FloorCategoryAdmin(ReadOnlyAdmin):
    list_display = ["category", "applies_to", "review_at", "block_at", "updated_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "actor_name", "verb", "target_type", "target_name"]
    list_filter = ["tenant", "verb", "target_type"]
    search_fields = ["actor_name", "target_name", "summary"]


# Publishing and fleet models (versions, channels, tokens, reports, approvals): read-only too.
for _model in apps.get_app_config("policy_admin").get_models():
    if not admin.site.is_registered(_model):
        admin.site.register(_model, ReadOnlyAdmin)
