"""The audit log: who changed what, when, with a before/after summary. Rows are never edited."""

from django.conf import settings
from django.db import models

from tenants.models import Tenant


class AuditEvent(models.Model):
    """One recorded change; tenant is null for platform events such as a floor change."""

    class Verb(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        IMPORT = "import", "Imported"
        PUBLISH = "publish", "Published"
        PROMOTE = "promote", "Promoted"
        ROLLBACK = "rollback", "Rolled back"
        REVOKE = "revoke", "Revoked"
        APPROVE = "approve", "Approved"

    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    verb = models.CharField(max_length=8, choices=Verb.choices)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=40, blank=True)
    target_name = models.CharField(max_length=200)
    # Kept when the policy is deleted, so the tenant's log still tells its story.
    policy = models.ForeignKey(
        "policy_admin.Policy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    policy_name = models.CharField(max_length=120, blank=True)
    summary = models.CharField(max_length=500)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="audit_tenant_recent")]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.verb} {self.target_type} {self.target_name}"
