"""Django admin: the read-only base every app's admin uses, and the vector cache."""

from django.contrib import admin

from kernel.models import VectorCacheEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to superusers, never changed: writes go through the services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VectorCacheEntry)
class VectorCacheEntryAdmin(ReadOnlyAdmin):
    list_display = ["content_sha256", "model_sha256", "dim", "created_at"]
    exclude = ["vector"]
