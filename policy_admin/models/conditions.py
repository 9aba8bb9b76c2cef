"""Conditional (cross-modal) rules: a prompt signal changes the image thresholds of a request."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from policy_admin.models.rules import EmbeddingRuleSet, KeywordRuleSet, PolicyRule, unit_interval


class ConditionalRule(PolicyRule):
    """When its prompt signal fires, its image thresholds judge that request's image.

    The signal is a keyword set or an embedding set of the same policy firing on
    the prompt, or a prompt category score of at least `at_least`. The image
    thresholds are `[{"category", "review_at", "block_at"}, ...]`, checked by the
    service (catalogue, order, platform floor) before they are saved.
    """

    class When(models.TextChoices):
        KEYWORD_SET = "keyword_set", "A keyword set fires on the prompt"
        EMBEDDING_SET = "embedding_set", "An embedding set fires on the prompt"
        CATEGORY = "category", "A prompt category score reaches a value"

    policy = models.ForeignKey(
        "policy_admin.Policy", on_delete=models.CASCADE, related_name="conditional_rules"
    )
    name = models.CharField(max_length=120)
    when = models.CharField(max_length=16, choices=When.choices)
    # RESTRICT: deleting a set a condition reads is refused with the condition named, but
    # deleting the policy (which cascades to both) is not.
    keyword_set = models.ForeignKey(
        KeywordRuleSet, null=True, blank=True, on_delete=models.RESTRICT, related_name="conditions"
    )
    embedding_set = models.ForeignKey(
        EmbeddingRuleSet,
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="conditions",
    )
    category = models.CharField(max_length=60, blank=True)
    at_least = models.FloatField(null=True, blank=True, validators=unit_interval)
    image_thresholds = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "conditional rule"
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "name"],
                name="conditional_rule_name_unique_per_policy",
                violation_error_message="This policy already has a condition with this name.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        when="keyword_set",
                        keyword_set__isnull=False,
                        embedding_set__isnull=True,
                        at_least__isnull=True,
                        category="",
                    )
                    | Q(
                        when="embedding_set",
                        keyword_set__isnull=True,
                        embedding_set__isnull=False,
                        at_least__isnull=True,
                        category="",
                    )
                    | (
                        Q(
                            when="category",
                            keyword_set__isnull=True,
                            embedding_set__isnull=True,
                            at_least__isnull=False,
                        )
                        & ~Q(category="")
                    )
                ),
                name="conditional_rule_signal_matches_when",
                violation_error_message=(
                    "Give exactly the signal the condition names: a keyword set, an embedding "
                    "set, or a category with the score it must reach."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        for field in ("keyword_set", "embedding_set"):
            rule = getattr(self, field)
            if rule is not None and rule.policy_id != self.policy_id:
                raise ValidationError({field: "Choose a set of this policy."})

    def signal_name(self) -> str:
        """The prompt signal in words, as the editor lists it."""
        if self.when == self.When.CATEGORY:
            return f"prompt {self.category} score ≥ {self.at_least:g}"
        rule = self.keyword_set if self.when == self.When.KEYWORD_SET else self.embedding_set
        kind = "keyword set" if self.when == self.When.KEYWORD_SET else "embedding set"
        return f"{kind} “{rule}” fires"
