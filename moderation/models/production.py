"""What the fleet decided in production, and the review queues that label it (docs/production.md).

Records are a sample (see policy_admin.DecisionSampling); counts cover every
decision. Labels on records of the random audit stratum are the only ones that
estimate production precision and recall without bias.
"""

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned


class ProductionSettings(TenantOwned):
    """Per-tenant settings of the production loop; one row per tenant, made on first use."""

    retention_days = models.PositiveSmallIntegerField(
        default=30, help_text="Raw decision records older than this are deleted every night."
    )

    class Meta:
        verbose_name_plural = "production settings"
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="production_settings_one_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"production settings of {self.tenant}"


class DecisionBatch(TenantOwned):
    """One upload from one agent; its id makes a retried upload a no-op."""

    policy = models.ForeignKey("policy_admin.Policy", on_delete=models.CASCADE, related_name="+")
    batch_id = models.CharField(max_length=64)
    instance_id = models.CharField(max_length=200)
    records = models.PositiveIntegerField(default=0)
    dropped = models.PositiveIntegerField(
        default=0, help_text="Records the agent dropped before this upload (buffer full)."
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "batch_id"], name="decision_batch_unique_per_tenant"
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.batch_id} from {self.instance_id}"


class DecisionRecord(TenantOwned):
    """One production decision the agent kept, with everything needed to label and re-judge it."""

    class Reason(models.TextChoices):
        REVIEW = "review", "Review decision"
        AUDIT = "audit", "Random audit"
        BLOCK = "block", "Block decision"
        SHADOW_FLIP = "shadow_flip", "Shadow decided otherwise"

    policy = models.ForeignKey("policy_admin.Policy", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(
        "policy_admin.PolicyVersion", on_delete=models.CASCADE, related_name="+"
    )
    batch = models.ForeignKey(DecisionBatch, on_delete=models.CASCADE, related_name="+")
    request_id = models.CharField(max_length=200)
    decided_at = models.DateTimeField()
    channel = models.CharField(max_length=40)
    action = models.CharField(max_length=8)
    # Why it was kept: a list of Reason values ("audit" may come with another).
    reasons = models.JSONField(default=list)
    # In the random audit stratum, drawn with this probability, independently of the action.
    audited = models.BooleanField(default=False)
    inclusion_probability = models.FloatField(null=True, blank=True)
    # [{"rule_id", "kind", "action", "score", "threshold", "fired"}, ...]
    rules = models.JSONField(default=list)
    # Every category and concept score: {"sexual": 0.91, "concept:weapons": 0.2, ...}
    scores = models.JSONField(default=dict)
    prompt = models.TextField(blank=True)
    thumbnail = models.BinaryField(null=True, blank=True)  # JPEG bytes, or None
    image_sha256 = models.CharField(max_length=64, blank=True)
    # A shadow flip (docs/fleet.md): what the channel's shadow version decided instead.
    shadow_version = models.ForeignKey(
        "policy_admin.PolicyVersion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    shadow_action = models.CharField(max_length=8, blank=True)
    shadow_rules = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "policy", "decided_at"], name="decision_policy_time"),
            models.Index(
                fields=["tenant", "policy", "audited", "decided_at"], name="decision_audit_time"
            ),
            models.Index(fields=["decided_at"], name="decision_prune"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.request_id}"


class DecisionCount(TenantOwned):
    """How many decisions one minute saw, per channel, version and action (all, not sampled).

    rule_id "" counts decisions of that action; a rule id counts decisions of that
    action in which the rule fired. Dashboards read these, never the raw records.
    """

    policy = models.ForeignKey("policy_admin.Policy", on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    channel = models.CharField(max_length=40)
    version_number = models.PositiveIntegerField()
    action = models.CharField(max_length=8)
    rule_id = models.CharField(max_length=200, blank=True)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["minute"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "tenant",
                    "policy",
                    "minute",
                    "channel",
                    "version_number",
                    "action",
                    "rule_id",
                ],
                name="decision_count_one_per_key",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "policy", "minute"], name="decision_count_time")]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.action} {self.rule_id or '*'}: {self.count}"


class ShadowCount(TenantOwned):
    """Shadowed requests of one minute, by enforced action × shadow action (docs/fleet.md).

    rule_id "" counts every shadowed request; a rule id counts the shadowed
    requests on which that rule (a category is a rule too) came out differently
    in the two versions: fired in one only, or with another action.
    """

    policy = models.ForeignKey("policy_admin.Policy", on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    channel = models.CharField(max_length=40)
    version_number = models.PositiveIntegerField()
    shadow_version_number = models.PositiveIntegerField()
    enforced_action = models.CharField(max_length=8)
    shadow_action = models.CharField(max_length=8)
    rule_id = models.CharField(max_length=200, blank=True)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["minute"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "tenant",
                    "policy",
                    "minute",
                    "channel",
                    "version_number",
                    "shadow_version_number",
                    "enforced_action",
                    "shadow_action",
                    "rule_id",
                ],
                name="shadow_count_one_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "policy", "channel", "minute"], name="shadow_count_time")
        ]

    def __str__(self) -> str:
        return (
            f"{self.minute:%Y-%m-%d %H:%M} {self.enforced_action}→{self.shadow_action} "
            f"{self.rule_id or '*'}: {self.count}"
        )


class ReviewQueue(TenantOwned):
    """Where kept decisions wait for people; every tenant has one default queue."""

    class Order(models.TextChoices):
        OLDEST = "oldest", "Oldest first"
        INFORMATIVE = "informative", "Most informative first (active learning)"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    is_default = models.BooleanField(default=False)
    order = models.CharField(max_length=12, choices=Order.choices, default=Order.OLDEST)
    lease_seconds = models.PositiveIntegerField(
        default=300, help_text="How long a claimed item stays with its reviewer."
    )
    overlap_share = models.FloatField(
        default=0.0, help_text="The share of items labelled by several reviewers (0 to 1)."
    )
    overlap_k = models.PositiveSmallIntegerField(
        default=2, help_text="How many reviewers label an overlapped item."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="review_queue_unique_slug"),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(is_default=True),
                name="review_queue_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoutingRule(TenantOwned):
    """Sends matching records to a queue; a tenant's rules are tried by position, first match wins.

    Blank fields match anything. A record no rule matches goes to the default queue.
    """

    queue = models.ForeignKey(ReviewQueue, on_delete=models.CASCADE, related_name="routing_rules")
    position = models.PositiveIntegerField(default=0)
    action = models.CharField(max_length=8, blank=True)
    rule_id = models.CharField(max_length=200, blank=True, help_text="Matches when it fired.")
    category = models.CharField(max_length=100, blank=True)
    score_min = models.FloatField(null=True, blank=True)
    score_max = models.FloatField(null=True, blank=True)
    channel = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=12, blank=True, choices=DecisionRecord.Reason.choices)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"rule {self.position} → {self.queue}"


class ReviewItem(TenantOwned):
    """A record, or a sample sent for relabelling, waiting in a queue for `labels_wanted` labels.

    Exactly one of `record` and `sample` is set. A sample's finished label is written back
    to it (moderation/services/review_samples.py).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Labelled"

    queue = models.ForeignKey(ReviewQueue, on_delete=models.CASCADE, related_name="items")
    record = models.ForeignKey(
        DecisionRecord,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="review_items",
    )
    sample = models.ForeignKey(
        "moderation.Sample",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="review_items",
    )
    status = models.CharField(max_length=4, choices=Status.choices, default=Status.OPEN)
    labels_wanted = models.PositiveSmallIntegerField(default=1)
    labels_done = models.PositiveSmallIntegerField(default=0)
    # Higher is asked first under the informative order; what it measures is in docs/production.md.
    priority = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["queue", "status", "created_at"], name="review_item_oldest"),
            models.Index(fields=["queue", "status", "-priority"], name="review_item_informative"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["queue", "record"], name="review_item_once_per_queue"),
            models.UniqueConstraint(
                fields=["sample"],
                condition=models.Q(status="open"),
                name="review_item_sample_waiting_once",
                violation_error_message="This sample is already waiting for review.",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(record__isnull=False, sample__isnull=True)
                    | models.Q(record__isnull=True, sample__isnull=False)
                ),
                name="review_item_record_or_sample",
                violation_error_message="A review item holds either a record or a sample.",
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.pk} in {self.queue}"


class ReviewClaim(TenantOwned):
    """One reviewer holding one item until `lease_expires_at`; answered or expired, it is kept."""

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="claims")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    claimed_at = models.DateTimeField(auto_now_add=True)
    lease_expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    released = models.BooleanField(default=False, help_text="Skipped, or its lease expired.")

    class Meta:
        ordering = ["-claimed_at", "-id"]
        indexes = [models.Index(fields=["lease_expires_at"], name="review_claim_lease")]

    def __str__(self) -> str:
        return f"claim of {self.item_id} by {self.reviewer_id}"


class ReviewLabel(TenantOwned):
    """A reviewer's answer for one item: the action it deserved and its categories."""

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="labels")
    # Null on the label of a sample item.
    record = models.ForeignKey(
        DecisionRecord, null=True, blank=True, on_delete=models.CASCADE, related_name="labels"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=8)
    categories = models.JSONField(default=list, blank=True)
    seconds = models.FloatField(default=0.0, help_text="Time the reviewer spent on the item.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "reviewer"], name="review_label_one_per_reviewer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} on {self.record_id}"
