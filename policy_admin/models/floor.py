"""The platform floor: the minimum policy staff keep and every tenant inherits."""

from django.db import models

from policy_admin.models.rules import AppliesTo, KeywordSetFields, unit_interval


class FloorCategory(models.Model):
    """The loosest thresholds any tenant may set for a category (lower is stricter)."""

    category = models.CharField(max_length=60)
    applies_to = models.CharField(max_length=8, choices=AppliesTo.choices, default=AppliesTo.BOTH)
    review_at = models.FloatField(validators=unit_interval)
    block_at = models.FloatField(validators=unit_interval)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category"]
        verbose_name = "floor category"
        verbose_name_plural = "floor categories"
        constraints = [
            models.UniqueConstraint(
                fields=["category", "applies_to"],
                name="floor_category_once",
                violation_error_message="The floor already has an entry for this category.",
            ),
            models.CheckConstraint(
                condition=models.Q(review_at__lte=models.F("block_at")),
                name="floor_review_not_above_block",
                violation_error_message="Review must not be above block.",
            ),
        ]

    def __str__(self) -> str:
        return f"floor {self.category} ({self.applies_to})"


class FloorKeywordSet(KeywordSetFields):
    """A locked keyword set included in every tenant's bundle; tenants cannot edit it."""

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="floor_keyword_set_name_once",
                violation_error_message="The floor already has a keyword set with this name.",
            ),
        ]
