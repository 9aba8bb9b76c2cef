"""Robustness reports of keyword sets: how many disguised variants of their terms still match."""

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned


class KeywordRobustnessReport(TenantOwned):
    """One run of the robustness report (moderation.analysis.robustness) on a draft keyword set.

    Status moves only through policy_admin.services.robustness: pending → running →
    succeeded | failed. `fingerprint` is the set's terms and options when it ran:
    a report whose fingerprint differs from the set's is out of date.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    keyword_set = models.ForeignKey(
        "policy_admin.KeywordRuleSet", on_delete=models.CASCADE, related_name="robustness_reports"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    seed = models.PositiveIntegerField(default=0)
    fingerprint = models.CharField(max_length=64)
    policy_revision = models.PositiveIntegerField()
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["keyword_set", "-created_at"], name="robustness_set_recent"),
        ]

    def __str__(self) -> str:
        return f"robustness report #{self.pk} of {self.keyword_set_id}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)
