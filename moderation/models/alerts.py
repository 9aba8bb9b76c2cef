"""Alert rules, their state, and the history of every firing and resolution."""

import secrets

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

    class State(models.TextChoices):
        OK = "ok", "OK"
        FIRING = "firing", "Firing"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
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
        ]

    def __str__(self) -> str:
        return self.name

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
