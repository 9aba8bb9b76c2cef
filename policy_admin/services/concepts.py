"""CLIP concepts of a draft and their example images."""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction

from kernel.errors import ApplicationError
from kernel.uploads import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, ImageUpload
from moderation.engine.images import ImageError, load_image
from policy_admin.models import ClipConcept, ConceptImage, Policy
from policy_admin.services.policies import rule_delete, rule_save
from policy_admin.services.rules import _clean_phrases

CONCEPT_FIELDS = ("name", "action", "method", "threshold", "text_hints")
MAX_IMAGES_PER_UPLOAD = 20
MAX_IMAGES_PER_CONCEPT = 100


@transaction.atomic
def concept_save(
    *, policy: Policy, actor, revision: int | None, concept: ClipConcept | None = None, **fields
) -> ClipConcept:
    """Create or change a concept's name, action, method, threshold and text hints."""
    concept = concept or ClipConcept(tenant=policy.tenant, policy=policy)
    if "text_hints" in fields:
        fields["text_hints"] = _clean_phrases(fields["text_hints"], "text hint")
    return rule_save(
        policy=policy,
        rule=concept,
        actor=actor,
        revision=revision,
        fields=fields,
        audit_fields=CONCEPT_FIELDS,
    )


@transaction.atomic
def concept_delete(*, concept: ClipConcept, actor, revision: int | None) -> None:
    """Delete a concept and its example images."""
    rule_delete(
        policy=concept.policy, rule=concept, actor=actor, revision=revision, fields=CONCEPT_FIELDS
    )


@transaction.atomic
def concept_images_add(
    *,
    concept: ClipConcept,
    actor,
    revision: int | None,
    uploads: list[ImageUpload],
    positive: bool = True,
) -> list[ConceptImage]:
    """Add example images; every file is checked first, so one bad file saves none of them."""
    _check_counts(concept, uploads)
    checked = [_check_image(upload) for upload in uploads]
    known = set(concept.images.values_list("sha256", flat=True))
    duplicates = [
        u.name for u, (digest, _) in zip(uploads, checked, strict=True) if digest in known
    ]
    if duplicates:
        raise ApplicationError(
            f"{', '.join(duplicates)}: already an example of {concept.name}; nothing was added."
        )
    images = []
    for upload, (digest, _size) in zip(uploads, checked, strict=True):
        image = ConceptImage(
            tenant=concept.tenant,
            concept=concept,
            positive=positive,
            sha256=digest,
            original_name=upload.name[:255],
        )
        image.image.save(upload.name, ContentFile(upload.data), save=False)
        image.full_clean()
        image.save()
        known.add(digest)
        images.append(image)
    kind = "positive" if positive else "negative"
    names = ", ".join(u.name for u in uploads)
    rule_save(
        policy=concept.policy,
        rule=concept,
        actor=actor,
        revision=revision,
        fields={},
        audit_fields=CONCEPT_FIELDS,
        verb="update",
        summary=f"added {len(images)} {kind} example image(s) to {concept.name}: {names}"[:500],
    )
    return images


def _check_counts(concept: ClipConcept, uploads: list[ImageUpload]) -> None:
    if not uploads:
        raise ApplicationError("Choose at least one image to upload.")
    if len(uploads) > MAX_IMAGES_PER_UPLOAD:
        raise ApplicationError(
            f"{len(uploads)} files at once; upload at most {MAX_IMAGES_PER_UPLOAD} at a time."
        )
    total = concept.images.count() + len(uploads)
    if total > MAX_IMAGES_PER_CONCEPT:
        raise ApplicationError(
            f"A concept holds at most {MAX_IMAGES_PER_CONCEPT} images; this upload would make "
            f"{total}. Remove some examples first."
        )


def _check_image(upload: ImageUpload) -> tuple[str, tuple[int, int]]:
    try:
        image = load_image(
            upload.data, max_pixels=MAX_IMAGE_PIXELS, max_bytes=MAX_IMAGE_BYTES, name=upload.name
        )
    except ImageError as error:
        raise ApplicationError(
            f"{error} Nothing was uploaded.", extra={"file": upload.name}
        ) from None
    return hashlib.sha256(upload.data).hexdigest(), image.size


@transaction.atomic
def concept_image_set_positive(
    *, image: ConceptImage, positive: bool, actor, revision: int | None
) -> ConceptImage:
    """Mark an example image as a positive or a negative example."""
    image.positive = positive
    image.save(update_fields=["positive"])
    kind = "positive" if positive else "negative"
    rule_save(
        policy=image.concept.policy,
        rule=image.concept,
        actor=actor,
        revision=revision,
        fields={},
        audit_fields=CONCEPT_FIELDS,
        summary=f"{image.original_name} is now a {kind} example of {image.concept.name}",
    )
    return image


@transaction.atomic
def concept_image_remove(*, image: ConceptImage, actor, revision: int | None) -> None:
    """Remove an example image from its concept (the file goes once the transaction commits)."""
    concept = image.concept
    rule_save(
        policy=concept.policy,
        rule=concept,
        actor=actor,
        revision=revision,
        fields={},
        audit_fields=CONCEPT_FIELDS,
        summary=f"removed example image {image.original_name} from {concept.name}",
    )
    storage, name = image.image.storage, image.image.name
    image.delete()
    transaction.on_commit(lambda: storage.delete(name))
