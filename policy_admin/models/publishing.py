"""Published versions of a policy, the channels that point at them, and every channel move."""

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned, slug_validator


class ImmutableVersionError(Exception):
    """Raised by any attempt to save a version that is already stored."""


class PolicyVersion(TenantOwned):
    """An immutable, signed bundle of a policy; numbers go 1, 2, 3… per policy, never reused."""

    policy = models.ForeignKey(
        "policy_admin.Policy", on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    bundle = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    # [{"kid": ..., "signature": base64}] in the order the keys signed.
    signatures = models.JSONField(default=list)
    revision = models.PositiveIntegerField(help_text="The draft revision it was built from.")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set on a rollback: the earlier version whose content this one repeats.
    restores = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "number"],
                name="policy_version_number_unique_per_policy",
                violation_error_message="This policy already has a version with this number.",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number}"

    def save(self, *args, **kwargs):
        """Insert only: a published version is never changed (its signature covers its bytes)."""
        if not self._state.adding:
            raise ImmutableVersionError(
                f"v{self.number} is published and cannot be changed; publish a new version."
            )
        super().save(*args, **kwargs)

    @property
    def key_ids(self) -> list[str]:
        return [s["kid"] for s in self.signatures]

    def signature_header(self) -> str:
        """`kid=base64sig` pairs, comma-separated, as the fleet API sends them."""
        return ",".join(f"{s['kid']}={s['signature']}" for s in self.signatures)


class Channel(TenantOwned):
    """A named pointer (staging, production, …) of a policy at one of its versions."""

    policy = models.ForeignKey(
        "policy_admin.Policy", on_delete=models.CASCADE, related_name="channels"
    )
    name = models.SlugField(max_length=40, validators=[slug_validator])
    # Versions are deleted only with their policy, which takes its channels along.
    version = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Shadow mode (docs/fleet.md): a candidate judged beside `version` on a share of live
    # traffic; its decisions are counted and compared, never enforced.
    shadow_version = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    shadow_rate = models.FloatField(
        default=0.0, help_text="The share of requests judged by the shadow too (0 to 1)."
    )
    shadow_started_at = models.DateTimeField(null=True, blank=True)
    # The optional guard: stop the shadow when its block rate exceeds the enforced one by
    # more than guard_points percentage points over guard_requests shadowed requests.
    guard_points = models.FloatField(null=True, blank=True)
    guard_requests = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["policy", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "name"],
                name="channel_name_unique_per_policy",
                violation_error_message="This policy already has a channel with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChannelMove(TenantOwned):
    """One change of what a channel points at: promote or rollback. Never edited."""

    class Kind(models.TextChoices):
        PROMOTE = "promote", "Promoted"
        ROLLBACK = "rollback", "Rolled back"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="moves")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    from_version = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to_version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class PublishingSettings(TenantOwned):
    """A tenant's publishing rules; absent means the defaults (no approval needed)."""

    require_approval = models.BooleanField(
        default=False,
        help_text="Four eyes: a publish needs another member's approval of the exact revision.",
    )

    class Meta:
        verbose_name_plural = "publishing settings"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                name="publishing_settings_one_per_tenant",
                violation_error_message="This tenant already has publishing settings.",
            ),
        ]

    def __str__(self) -> str:
        return f"publishing settings of {self.tenant}"


class PublishApproval(TenantOwned):
    """Another member's approval of one draft revision; any later edit makes it moot."""

    policy = models.ForeignKey(
        "policy_admin.Policy", on_delete=models.CASCADE, related_name="approvals"
    )
    revision = models.PositiveIntegerField()
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "revision", "approver"],
                name="publish_approval_once_per_revision_and_approver",
                violation_error_message="You already approved this revision.",
            ),
        ]

    def __str__(self) -> str:
        return f"approval of revision {self.revision}"
