"""The four rule kinds a policy holds. Each row is tenant-owned and belongs to one policy."""

from collections.abc import Iterable

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from moderation.engine.decision import Action
from moderation.engine.match_options import MATCH_MODES, OPTION_NAMES, MatchOptions
from tenants.models import TenantOwned

unit_interval = [MinValueValidator(0.0), MaxValueValidator(1.0)]


def action_choices(actions: Iterable[Action]) -> list[tuple[str, str]]:
    """Django choices of actions of the engine's ladder, least strict first."""
    return [(action.value, action.value.capitalize()) for action in actions]


# A rule that fires acts: any action of the ladder above allow.
RULE_ACTIONS = action_choices(action for action in Action if action > Action.ALLOW)
_DEFAULTS = MatchOptions()


class AppliesTo(models.TextChoices):
    PROMPT = "prompt", "Prompts"
    IMAGE = "image", "Images"
    BOTH = "both", "Prompts and images"


class TextTarget(models.TextChoices):
    """Which text a keyword or embedding set reads (the engine's bundle TextTarget)."""

    PROMPT = "prompt", "Prompts"
    IMAGE_TEXT = "image_text", "Text in images (OCR)"
    BOTH = "both", "Prompts and text in images"


def text_target_field():
    return models.CharField(
        max_length=10,
        choices=TextTarget.choices,
        default=TextTarget.PROMPT,
        db_default=TextTarget.PROMPT,
        help_text="Text in images is read by the OCR model, which the bundle then pins.",
    )


class PolicyRule(TenantOwned):
    """Fields every rule shares: the policy it belongs to and when it changed."""

    policy = models.ForeignKey("policy_admin.Policy", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class CategoryThreshold(PolicyRule):
    """Review and block thresholds on one catalogue category's score, for prompts and/or images."""

    policy = models.ForeignKey(
        "policy_admin.Policy", on_delete=models.CASCADE, related_name="category_thresholds"
    )
    category = models.CharField(max_length=60)
    applies_to = models.CharField(max_length=8, choices=AppliesTo.choices, default=AppliesTo.BOTH)
    review_at = models.FloatField(validators=unit_interval)
    block_at = models.FloatField(validators=unit_interval)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "applies_to"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "category", "applies_to"],
                name="threshold_one_per_category_and_input",
                violation_error_message="This policy already has a threshold for this category.",
            ),
            models.CheckConstraint(
                condition=models.Q(review_at__lte=models.F("block_at")),
                name="threshold_review_not_above_block",
                violation_error_message="Review must not be above block.",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    review_at__gte=0, review_at__lte=1, block_at__gte=0, block_at__lte=1
                ),
                name="threshold_in_unit_interval",
                violation_error_message="Thresholds are scores between 0 and 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} ({self.applies_to})"


class KeywordSetFields(models.Model):
    """Terms matched in prompts, with their match options and allow-list exceptions.

    Terms are stored as one newline-joined text, deduplicated and in the order
    given: a set holds up to 200,000 terms and is read and written whole.
    Shared by a tenant's keyword sets and the platform floor's locked ones.
    The match options are the engine's MatchOptions, one column each.
    """

    name = models.CharField(max_length=120)
    action = models.CharField(max_length=8, choices=RULE_ACTIONS, default=Action.BLOCK.value)
    terms = models.TextField(blank=True)
    term_count = models.PositiveIntegerField(default=0)
    allow_list = models.TextField(blank=True, help_text="Phrases that never fire, one per line.")
    mode = models.CharField(
        max_length=12, choices=list(MATCH_MODES.items()), default=_DEFAULTS.mode
    )
    casefold = models.BooleanField(default=_DEFAULTS.casefold)
    nfkc = models.BooleanField(default=_DEFAULTS.nfkc)
    leetspeak = models.BooleanField(default=_DEFAULTS.leetspeak)
    homoglyphs = models.BooleanField(default=_DEFAULTS.homoglyphs)
    ignore_separators = models.BooleanField(default=_DEFAULTS.ignore_separators)
    any_separators = models.BooleanField(default=_DEFAULTS.any_separators)
    one_letter_words = models.BooleanField(default=_DEFAULTS.one_letter_words)
    accents = models.BooleanField(default=_DEFAULTS.accents)
    leet_symbols = models.BooleanField(default=_DEFAULTS.leet_symbols)
    squeeze_repeats = models.BooleanField(default=_DEFAULTS.squeeze_repeats)
    languages = models.CharField(max_length=120, blank=True, help_text="e.g. en, de, ja")
    notes = models.TextField(blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    def match_options(self) -> MatchOptions:
        """The set's match options as the engine reads them."""
        return MatchOptions(**{name: getattr(self, name) for name in OPTION_NAMES})

    def term_list(self) -> list[str]:
        return self.terms.split("\n") if self.terms else []

    def allow_list_terms(self) -> list[str]:
        return self.allow_list.split("\n") if self.allow_list else []


class KeywordRuleSet(PolicyRule, KeywordSetFields):
    """A tenant's keyword set in a policy's draft."""

    policy = models.ForeignKey(
        "policy_admin.Policy", on_delete=models.CASCADE, related_name="keyword_sets"
    )
    applies_to = text_target_field()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "name"],
                name="keyword_set_name_unique_per_policy",
                violation_error_message="This policy already has a keyword set with this name.",
            ),
        ]


class EmbeddingRuleSet(PolicyRule):
    """Example phrases (and counter-examples) a prompt is compared with by sentence embedding."""

    policy = models.ForeignKey(
        "policy_admin.Policy", on_delete=models.CASCADE, related_name="embedding_sets"
    )
    name = models.CharField(max_length=120)
    action = models.CharField(max_length=8, choices=RULE_ACTIONS, default=Action.REVIEW.value)
    examples = models.JSONField(default=list)
    counter_examples = models.JSONField(default=list, blank=True)
    threshold = models.FloatField(default=0.6, validators=unit_interval)
    applies_to = text_target_field()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "name"],
                name="embedding_set_name_unique_per_policy",
                violation_error_message="This policy already has an embedding set with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ClipConcept(PolicyRule):
    """A custom visual concept defined few-shot by example images."""

    class Method(models.TextChoices):
        PROTOTYPE = "prototype", "Prototype (cosine to the mean)"
        LINEAR_PROBE = "linear_probe", "Linear probe"

    MIN_POSITIVES = 3

    policy = models.ForeignKey(
        "policy_admin.Policy", on_delete=models.CASCADE, related_name="concepts"
    )
    name = models.CharField(max_length=120)
    action = models.CharField(max_length=8, choices=RULE_ACTIONS, default=Action.REVIEW.value)
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.PROTOTYPE)
    threshold = models.FloatField(default=0.5, validators=unit_interval)
    text_hints = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "name"],
                name="concept_name_unique_per_policy",
                violation_error_message="This policy already has a concept with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


def concept_image_path(image: "ConceptImage", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    return f"concepts/{image.tenant_id}/{image.sha256}.{extension}"


class ConceptImage(TenantOwned):
    """One example image of a concept, stored once per concept by content hash."""

    concept = models.ForeignKey(ClipConcept, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        upload_to=concept_image_path, width_field="width", height_field="height"
    )
    positive = models.BooleanField(default=True)
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=255)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-positive", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["concept", "sha256"],
                name="concept_image_once_per_concept",
                violation_error_message="This image is already an example of this concept.",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name
