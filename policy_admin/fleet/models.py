"""Fleet tokens that inference servers present, and the status each server reports."""

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned


def default_scopes() -> list[str]:
    return ["fetch", "report"]


class FleetToken(TenantOwned):
    """A secret an inference server sends as Bearer; only its sha256 is stored.

    Scopes: `fetch` reads bundles and sends status reports; `report` uploads
    production decisions (docs/production.md).
    """

    PREFIX = "mfl_"
    SCOPES = ("fetch", "report")

    name = models.CharField(max_length=100)
    token_prefix = models.CharField(
        max_length=12, help_text="The first characters, to recognise it."
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # Empty lists mean every policy / every channel of the tenant.
    policy_ids = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    scopes = models.JSONField(default=default_scopes, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    def allows(self, *, policy_id: int, channel: str | None) -> bool:
        """Whether the token's scope covers this policy and (when given) this channel."""
        if self.policy_ids and policy_id not in self.policy_ids:
            return False
        return not (channel is not None and self.channels and channel not in self.channels)


class FleetInstance(TenantOwned):
    """The latest status one inference server reported: what it runs and what it refused."""

    instance_id = models.CharField(max_length=200)
    labels = models.JSONField(default=dict, blank=True)
    bundles = models.JSONField(default=list, blank=True)
    models_loaded = models.JSONField(default=dict, blank=True)
    token = models.ForeignKey(FleetToken, null=True, on_delete=models.SET_NULL, related_name="+")
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["instance_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "instance_id"],
                name="fleet_instance_unique_per_tenant",
                violation_error_message="This tenant already has an instance with this id.",
            ),
        ]

    def __str__(self) -> str:
        return self.instance_id
