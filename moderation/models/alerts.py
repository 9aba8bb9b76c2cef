"""Alert rules, their state, and the history of every firing and resolution."""

import secrets

from django.core.exceptions import ValidationError
from django.db import models

from tenants.models import TenantOwned


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class AlertRule(TenantOwned):
    """A condition watched for one tenant; it fires once when it becomes true and resolves once."""

    class Kind(models.TextChoices):
        METRIC_BELOW = "metric_below", "Precision, recall or F1 below a floor after a suite run"
        DRIFT = "drift", "Score drift past a threshold"
        FLEET = "fleet", "Fleet servers stale or rejecting a bundle"
        REVIEW_BACKLOG = "review_backlog", "Review items waiting longer than N minutes"
        PRODUCTION_PRECISION = "prod_precision", "Production precision below a floor"
        SHADOW_GUARD = "shadow_guard", "A shadow stopped by its guard (blocks rose too much)"

    class State(models.TextChoices):
        OK = "ok", "OK"
        FIRING = "firing", "Firing"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Foreign keys, not names, so that renaming a policy or a sample set keeps its
    # rules watching it. CASCADE, as for the test runs the rules judge: a rule
    # watching a deleted policy or set has nothing left to watch. Null only for
    # rules whose old reference by name resolved to nothing (migration 0007); the
    # constraints below keep those off until someone points them somewhere.
    policy = models.ForeignKey(
        "policy_admin.Policy",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_rules",
    )
    sample_set = models.ForeignKey(
        "SampleSet",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_rules",
        help_text="The set a metric rule judges suite runs on; other kinds watch no set.",
    )
    params = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    email_to = models.TextField(blank=True, help_text="Addresses, one per line.")
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OK)
    state_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"],
                name="alert_rule_name_unique_per_tenant",
                violation_error_message="This tenant already has an alert rule with this name.",
            ),
            models.CheckConstraint(
                condition=models.Q(enabled=False) | models.Q(policy__isnull=False),
                name="alert_rule_on_watches_a_policy",
                violation_error_message="Choose the policy this rule watches, or turn it off.",
            ),
            models.CheckConstraint(
                condition=models.Q(enabled=False)
                | ~models.Q(kind="metric_below")
                | models.Q(sample_set__isnull=False),
                name="alert_rule_metric_on_watches_a_sample_set",
                violation_error_message="Choose the sample set this metric rule judges, or turn "
                "it off.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="metric_below") | models.Q(sample_set__isnull=True),
                name="alert_rule_only_metric_rules_watch_a_sample_set",
                violation_error_message="Only a metric rule watches a sample set.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        """A rule watches its own tenant's policy and sample set, never another's."""
        errors = {}
        if self.policy_id and self.policy.tenant_id != self.tenant_id:
            errors["policy"] = "Choose one of this tenant's policies."
        if self.sample_set_id and self.sample_set.tenant_id != self.tenant_id:
            errors["sample_set"] = "Choose one of this tenant's sample sets."
        if errors:
            raise ValidationError(errors)

    def recipients(self) -> list[str]:
        return [line.strip() for line in self.email_to.splitlines() if line.strip()]


class AlertEvent(TenantOwned):
    """One change of a rule's state, with what was delivered where."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    state = models.CharField(max_length=8, choices=AlertRule.State.choices)
    message = models.TextField()
    deliveries = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule} {self.state}"
