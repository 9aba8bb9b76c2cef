"""Build the demo tenant's example policy through the same services the editor uses."""

import io
from pathlib import Path

import yaml
from PIL import Image, ImageDraw

from kernel.uploads import ImageUpload
from policy_admin.models import FloorCategory, FloorKeywordSet, Policy
from policy_admin.selectors import catalogue
from policy_admin.services import concepts, conditions, floors, policies, rules
from policy_admin.services.terms import terms_from_text

KEYWORDS = Path(__file__).parent / "keywords.yaml"

KEYWORD_SETS = [
    ("Drugs", "review", "drugs"),
    ("Weapons", "review", "weapons"),
    ("Graphic violence", "block", "violence"),
    ("Self-harm", "block", "self_harm"),
    ("Sexual content", "block", "sexual"),
]

EMBEDDING_SETS = [
    {
        "name": "Violent intent",
        "action": "block",
        "threshold": 0.62,
        "examples": [
            "a man stabbing someone in an alley",
            "soldiers executing prisoners",
            "a person being beaten until they bleed",
            "a body lying in a pool of blood",
            "someone shooting into a crowd",
        ],
        "counter_examples": [
            "a knight in armour at a medieval fair",
            "actors in a stage fight at the theatre",
            "a chef cutting vegetables with a knife",
        ],
    },
    {
        "name": "Drug manufacture",
        "action": "review",
        "threshold": 0.6,
        "examples": [
            "a meth lab in a trailer with chemical equipment",
            "bags of white powder on a scale",
            "someone cooking drugs in a kitchen",
            "pills being pressed in a clandestine lab",
        ],
        "counter_examples": [
            "a pharmacist filling a prescription",
            "a chemistry class doing an experiment",
        ],
    },
]


def seed_floor(*, actor) -> None:
    """The platform's own minimum: sexual content involving minors always blocks."""
    floors.floor_category_set(
        actor=actor, category="sexual/minors", applies_to="both", review_at=0.1, block_at=0.3
    )
    terms = yaml.safe_load(KEYWORDS.read_text())["minors"]
    FloorKeywordSet.objects.update_or_create(
        name="Minors (platform floor)",
        defaults={"action": "block", "terms": "\n".join(terms), "term_count": len(terms)},
    )


def seed_policy(*, tenant, actor) -> Policy:
    """Replace the tenant's `default` policy with the example policy."""
    existing = Policy.objects.filter(tenant=tenant, slug="default").first()
    if existing:
        policies.policy_delete(policy=existing, actor=actor, revision=existing.revision)
    policy = policies.policy_create(
        tenant=tenant,
        actor=actor,
        name="Default",
        slug="default",
        description="What every prompt and generated image of the consumer app is checked against.",
    )
    floor = {f.category: f for f in FloorCategory.objects.all()}
    for category in catalogue.categories():
        limit = floor.get(category.id, category)  # the defaults, tightened by the floor
        rules.threshold_save(
            policy=policy,
            actor=actor,
            revision=policy.revision,
            category=category.id,
            applies_to=category.applies_to,
            review_at=min(category.review_at, limit.review_at),
            block_at=min(category.block_at, limit.block_at),
        )
    lists = yaml.safe_load(KEYWORDS.read_text())
    for name, action, key in KEYWORD_SETS:
        rules.keyword_set_save(
            policy=policy,
            actor=actor,
            revision=policy.revision,
            name=name,
            action=action,
            terms=terms_from_text("\n".join(lists[key])),
        )
    for fields in EMBEDDING_SETS:
        rules.embedding_set_save(policy=policy, actor=actor, revision=policy.revision, **fields)
    _seed_concept(policy, actor)
    _seed_condition(policy, actor)
    return policy


# A prompt signal, not a verdict: it flags, and makes the image thresholds stricter.
YOUNG_PEOPLE = ["teen", "teens", "teenager", "teenagers", "schoolgirl", "schoolboy", "toddler",
                "little girl", "little boy", "young girl", "young boy", "kid", "kids"]  # fmt: skip
MINOR_SIGNAL = "Minor signal: stricter images"


def _seed_condition(policy: Policy, actor) -> None:
    """When a prompt mentions young people, images are judged on lower sexual and nudity scores."""
    signal, _ = rules.keyword_set_save(
        policy=policy,
        actor=actor,
        revision=policy.revision,
        name="Young people (signal)",
        action="flag",
        terms=terms_from_text("\n".join(YOUNG_PEOPLE)),
        notes="Read by the conditional rule “" + MINOR_SIGNAL + "”.",
    )
    conditions.condition_save(
        policy=policy,
        actor=actor,
        revision=policy.revision,
        name=MINOR_SIGNAL,
        when="keyword_set",
        keyword_set=signal,
        image_thresholds=[
            {"category": "sexual", "review_at": 0.2, "block_at": 0.5},
            {"category": "nudity", "review_at": 0.3, "block_at": 0.6},
        ],
    )


def _seed_concept(policy: Policy, actor) -> None:
    concept = concepts.concept_save(
        policy=policy,
        actor=actor,
        revision=policy.revision,
        name="Firearm on display",
        action="review",
        method="prototype",
        threshold=0.8,
        text_hints=["a photo of a gun", "a rifle on a table"],
    )
    positives = [ImageUpload(f"firearm-{i}.png", _drawing(i, gun=True)) for i in range(4)]
    negatives = [ImageUpload(f"tools-{i}.png", _drawing(i, gun=False)) for i in range(2)]
    concepts.concept_images_add(
        concept=concept, actor=actor, revision=policy.revision, uploads=positives
    )
    concepts.concept_images_add(
        concept=concept, actor=actor, revision=policy.revision, uploads=negatives, positive=False
    )


def catch_phrased_misses(*, policy: Policy, actor) -> None:
    """A first tuning step: lower the review threshold of drugs, weapons and self-harm."""
    for row in policy.category_thresholds.filter(category__in=["drugs", "weapons", "self-harm"]):
        row.policy = policy  # the service bumps this instance's revision
        rules.threshold_save(
            policy=policy, actor=actor, revision=policy.revision, threshold=row, review_at=0.2
        )


def widen_concept(*, policy: Policy, actor) -> None:
    """A second step: two more firearm examples and a lower concept threshold."""
    concept = policy.concepts.get(name="Firearm on display")
    concept.policy = policy
    more = [ImageUpload(f"firearm-{i}.png", _drawing(i, gun=True)) for i in (4, 5)]
    concepts.concept_images_add(
        concept=concept, actor=actor, revision=policy.revision, uploads=more
    )
    concepts.concept_save(
        policy=policy, actor=actor, revision=policy.revision, concept=concept, threshold=0.72
    )


# What the demo's editor changed between its suites, in order.
DRAFT_CHANGES = (catch_phrased_misses, widen_concept)


def _drawing(seed: int, *, gun: bool) -> bytes:
    """A small synthetic example image: a pistol silhouette, or a hammer."""
    image = Image.new("RGB", (96, 96), (230 - seed * 20, 225, min(210 + seed * 10, 255)))
    draw = ImageDraw.Draw(image)
    dx = seed * 4
    if gun:
        draw.rectangle([10 + dx, 30, 80 + dx, 44], fill=(30, 30, 30))  # slide
        draw.polygon(
            [(20 + dx, 44), (36 + dx, 44), (30 + dx, 80), (14 + dx, 80)], fill=(40, 40, 40)
        )
    else:
        draw.rectangle([44 + dx, 20, 52 + dx, 86], fill=(140, 90, 40))  # handle
        draw.rectangle([28 + dx, 14, 68 + dx, 28], fill=(120, 120, 130))  # head
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
