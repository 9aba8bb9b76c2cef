"""Scoring-side tables: test runs, sample sets and samples, with their inputs and results."""

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned


class TestRun(TenantOwned):
    """One evaluation of a policy's draft or published version on live inputs or a sample set.

    Status moves only through `moderation.services.lifecycle.run_transition`:
    pending → running → succeeded | failed | cancelled, and failed → pending on retry.
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
        CANCELLED = "cancelled", "Cancelled"

    policy = models.ForeignKey("policy_admin.Policy", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.LIVE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # What was evaluated: the draft at this revision, or (version_number set) that
    # published version, whose bundle was built from this revision.
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
    # Suites: the samples evaluated, and how many of them have a stored result.
    sample_set = models.ForeignKey(
        "SampleSet", null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)

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

    @property
    def target_label(self) -> str:
        """What the run judged, as pages show it: "draft" or "v3"."""
        return "draft" if self.version_number is None else f"v{self.version_number}"


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


class SampleSet(TenantOwned):
    """A tenant's named collection of labelled samples; names are unique within a tenant."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"],
                name="sample_set_unique_name_per_tenant",
                violation_error_message="A sample set with this name already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name


def sample_image_path(sample: "Sample", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    return f"samples/{sample.tenant_id}/{sample.image_sha256}.{extension}"


class Sample(TenantOwned):
    """One labelled example: a prompt and/or an image, the action and categories expected.

    `content_sha256` hashes the prompt and the image bytes together; a set holds
    each content once. `search_keys` is a denormalised "tag:x cat:y" string so
    tag and label filters work alike on PostgreSQL and SQLite.
    """

    sample_set = models.ForeignKey(SampleSet, on_delete=models.CASCADE, related_name="samples")
    external_id = models.CharField(max_length=200)
    prompt = models.TextField(blank=True)
    image = models.ImageField(upload_to=sample_image_path, blank=True)
    image_sha256 = models.CharField(max_length=64, blank=True)
    content_sha256 = models.CharField(max_length=64)
    expected_action = models.CharField(max_length=8)
    expected_categories = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    search_keys = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sample_set", "external_id"],
                name="sample_unique_id_per_set",
                violation_error_message="This sample id is already in the set.",
            ),
            models.UniqueConstraint(
                fields=["sample_set", "content_sha256"],
                name="sample_unique_content_per_set",
                violation_error_message="The same prompt and image are already in the set.",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class SampleResult(TenantOwned):
    """What a suite run decided for one sample; a run holds at most one result per sample."""

    run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="sample_results")
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=8)
    decision = models.JSONField()
    timings_ms = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sample_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "sample"], name="sample_result_once_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.sample_id} in run {self.run_id}: {self.action}"


class SampleImport(TenantOwned):
    """The outcome of one manifest import: how many rows landed, and each refused row's reason."""

    sample_set = models.ForeignKey(SampleSet, on_delete=models.CASCADE, related_name="imports")
    file_name = models.CharField(max_length=255)
    imported = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # [{"row": n, "id": "...", "error": "..."}]
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name}: {self.imported} imported, {len(self.errors)} refused"
