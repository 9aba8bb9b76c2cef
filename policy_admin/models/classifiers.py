"""Custom classifiers: a rule kind trained from labelled samples, and its immutable versions."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from moderation.engine.decision import Action
from policy_admin.models.rules import RULE_ACTIONS, PolicyRule, unit_interval
from tenants.models import TenantOwned


def sample_filter_check(value) -> None:
    """A filter is {"actions": [...], "categories": [...], "tags": [...]}; some key non-empty."""
    allowed = {"actions", "categories", "tags"}
    if not isinstance(value, dict) or set(value) - allowed:
        raise ValidationError(
            "A sample filter is an object with the keys actions, categories and tags."
        )
    for key, items in value.items():
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise ValidationError(f"The filter's {key} must be a list of non-empty strings.")
    if not any(value.values()):
        raise ValidationError("The filter selects nothing; name an action, a category or a tag.")


class CustomClassifier(PolicyRule):
    """A linear classifier trained from a sample set; the draft uses its pinned `version`.

    Positives are the samples the positives filter matches; negatives those the
    negatives filter matches (a sample both match counts as positive only).
    """

    class Target(models.TextChoices):
        PROMPT = "prompt", "Prompts"
        IMAGE = "image", "Images"

    policy = models.ForeignKey(
        "policy_admin.Policy", on_delete=models.CASCADE, related_name="classifiers"
    )
    name = models.CharField(max_length=120)
    target = models.CharField(max_length=8, choices=Target.choices, default=Target.IMAGE)
    positives = models.JSONField(validators=[sample_filter_check])
    negatives = models.JSONField(validators=[sample_filter_check])
    threshold = models.FloatField(default=0.5, validators=unit_interval)
    target_precision = models.FloatField(
        default=0.9,
        validators=unit_interval,
        help_text="Training suggests the lowest threshold that reaches this precision.",
    )
    action = models.CharField(max_length=8, choices=RULE_ACTIONS, default=Action.REVIEW.value)
    version = models.ForeignKey(
        "policy_admin.ClassifierVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The trained version the draft's bundle carries; none: left out of bundles.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "name"],
                name="classifier_name_unique_per_policy",
                violation_error_message="This policy already has a classifier with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.version_id and self.version.classifier_id != self.pk:
            raise ValidationError({"version": "That version was trained for another classifier."})


class ClassifierVersion(TenantOwned):
    """One training's result, never edited: JSON coefficients, feature pins, metrics, provenance.

    `coefficients`: {"weights", "bias", "scaler": {"mean", "scale"}, "calibration"}.
    `feature_pins`: {"encoder": {"name", "version", "sha256", "dim"}, "outputs": [...],
    "output_models": {name: {"name", "version", "sha256"}}}.
    """

    classifier = models.ForeignKey(
        CustomClassifier, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    target = models.CharField(max_length=8, choices=CustomClassifier.Target.choices)
    coefficients = models.JSONField()
    feature_pins = models.JSONField()
    metrics = models.JSONField()
    sample_set_id = models.PositiveBigIntegerField(
        help_text="The moderation sample set it was trained on (kept if the set is deleted)."
    )
    sample_ids = models.JSONField(help_text="Training samples' ids, in training order.")
    sample_labels = models.JSONField(help_text="1 positive, 0 negative, per sample id.")
    samples_sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["classifier", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["classifier", "number"],
                name="classifier_version_number_unique",
                violation_error_message="This classifier already has a version with this number.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.classifier.name} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("A classifier version is immutable; train a new one instead.")
        return super().save(*args, **kwargs)
