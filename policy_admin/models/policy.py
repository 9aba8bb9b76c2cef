"""A tenant's policy: its working draft is the rules that point at it."""

from django.conf import settings
from django.db import models

from tenants.models import TenantOwned, slug_validator


class Policy(TenantOwned):
    """A named set of rules of one tenant; `revision` goes up by one on every draft change."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, validators=[slug_validator])
    description = models.TextField(blank=True)

    class FailureMode(models.TextChoices):
        CLOSED = "closed", "Fail closed: refuse content when moderation cannot answer"
        OPEN = "open", "Fail open: let content through when moderation cannot answer"

    # Carried in the bundle (`failure_mode`); the agent shows it so clients can honour it.
    failure_mode = models.CharField(
        max_length=6,
        choices=FailureMode.choices,
        default=FailureMode.CLOSED,
        db_default=FailureMode.CLOSED,
    )
    # Every save of the draft names the revision it started from; a stale one
    # is refused (policy_admin.services.drafts) instead of overwriting.
    revision = models.PositiveIntegerField(default=1)
    # Publishing refuses a draft whose keyword sets' latest robustness reports
    # have an expected operator below the floor (policy_admin.services.robustness).
    # A database default too: code of an older schema (a migration test going
    # back) still inserts policies without naming it.
    robustness_floor = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Block publishing while a keyword set catches under 99% of the disguised "
        "variants of any evasion its options cover.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "slug"],
                name="policy_slug_unique_per_tenant",
                violation_error_message="This tenant already has a policy with this slug.",
            ),
        ]

    def __str__(self) -> str:
        return self.name
