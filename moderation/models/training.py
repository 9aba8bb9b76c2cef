"""Training runs of custom classifiers: one row per training, with progress and outcome."""

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned


class TrainingRun(TenantOwned):
    """One training of a classifier on a sample set; done runs name the version they made.

    Status moves only through `moderation.services.classifiers.training_transition`:
    queued → running → done | failed, and failed → queued on retry. A failed run
    has a reason and no version.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    classifier = models.ForeignKey(
        "policy_admin.CustomClassifier", on_delete=models.CASCADE, related_name="training_runs"
    )
    sample_set = models.ForeignKey(
        "moderation.SampleSet", on_delete=models.CASCADE, related_name="training_runs"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    skipped = models.JSONField(default=list, blank=True, help_text="[{sample, why}] left out.")
    label_issues = models.JSONField(default=list, blank=True, help_text="[{sample, label, score}]")
    version = models.OneToOneField(
        "policy_admin.ClassifierVersion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="training_run",
    )
    timings_s = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="done") | models.Q(version__isnull=False),
                name="training_done_has_a_version",
                violation_error_message="A finished training names the version it made.",
            ),
        ]

    def __str__(self) -> str:
        return f"training {self.pk} of {self.classifier_id}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
