"""Scoring-side tables: cached vectors, and test runs with their inputs and results."""

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned


class VectorCacheEntry(models.Model):
    """The vector one model made of one input, so a draft rebuild re-encodes only what changed.

    Keyed by the model's weights (pin sha256) and the input's content hash: a
    changed phrase or a new model is a miss; nothing else ever is.
    """

    model_sha256 = models.CharField(max_length=64)
    content_sha256 = models.CharField(max_length=64)
    dim = models.PositiveIntegerField()
    vector = models.BinaryField()  # float32, little-endian
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_sha256", "content_sha256"], name="vector_cache_once_per_input"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.content_sha256[:12]} by {self.model_sha256[:12]}"


class TestRun(TenantOwned):
    """One evaluation of a policy's draft (or, later, a version) on live inputs or a sample set.

    Status moves only through `moderation.services.runs.run_transition`:
    pending → running → succeeded | failed, and failed → pending on retry.
    """

    __test__ = False  # not a pytest test class, whatever its name

    class Kind(models.TextChoices):
        LIVE = "live", "Live test"
        SUITE = "suite", "Test suite"

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    policy = models.ForeignKey("policy_admin.Policy", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.LIVE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # What was evaluated: the draft at this revision (a published version later).
    policy_revision = models.PositiveIntegerField()
    version_number = models.PositiveIntegerField(null=True, blank=True)
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prompt = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    bundle_sha256 = models.CharField(max_length=64, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "policy", "-created_at"], name="testrun_policy_recent")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} of {self.policy_id}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)


def test_run_image_path(image: "TestRunImage", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    return f"runs/{image.tenant_id}/{image.sha256}.{extension}"


class TestRunImage(TenantOwned):
    """An image uploaded for a live test, checked before the run was queued."""

    __test__ = False

    run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        upload_to=test_run_image_path, width_field="width", height_field="height"
    )
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=255)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.original_name


# Alert rules live in their own module; importing them here registers them with the app.
from moderation.alerts.models import AlertEvent, AlertRule  # noqa: E402

__all__ = ["AlertEvent", "AlertRule", "TestRun", "TestRunImage", "VectorCacheEntry"]
