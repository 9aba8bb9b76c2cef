"""Which of a policy's production decisions the fleet keeps and sends back (docs/production.md)."""

from django.core.validators import MaxValueValidator
from django.db import models

from policy_admin.models.rules import unit_interval
from tenants.models import TenantOwned


class DecisionSampling(TenantOwned):
    """The sampling rules a policy's bundles carry; one row per policy, made on first save.

    A decision is kept when any rule selects it: every `review` up to a rate, a
    random audit share of all decisions (its probability stored on the record, so
    that estimates can weight by its inverse), and optionally every `block`.
    """

    policy = models.OneToOneField(
        "policy_admin.Policy", on_delete=models.CASCADE, related_name="decision_sampling"
    )
    enabled = models.BooleanField(
        default=True, help_text="Off: the fleet sends counts per minute but no records."
    )
    review_per_minute = models.PositiveIntegerField(
        default=60, help_text="Keep every review decision up to this many per minute and server."
    )
    audit_share = models.FloatField(
        default=0.01,
        validators=unit_interval,
        help_text="The share of all decisions kept at random, as a fraction (0.01 = 1%).",
    )
    keep_blocks = models.BooleanField(default=False, help_text="Also keep every block decision.")
    thumbnail_px = models.PositiveSmallIntegerField(
        default=256,
        validators=[MaxValueValidator(1024)],
        help_text="The longest side of the JPEG thumbnail kept of an image; 0 keeps none.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "decision sampling"

    def __str__(self) -> str:
        return f"sampling of {self.policy}"
