"""Policy as code: export a draft as YAML; import YAML into a draft in one audited transaction."""

import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction

from kernel.errors import ApplicationError
from kernel.uploads import ImageUpload
from policy_admin.models import (
    CategoryThreshold,
    ClipConcept,
    ConceptImage,
    ConditionalRule,
    CustomClassifier,
    EmbeddingRuleSet,
    KeywordRuleSet,
    Policy,
)
from policy_admin.policy_yaml.archive import zip_images
from policy_admin.policy_yaml.conditions import create_conditions
from policy_admin.policy_yaml.document import dump, load, policy_document
from policy_admin.policy_yaml.problems import PolicyYamlError, Problem, join
from policy_admin.policy_yaml.schema import classifier_versions, validate
from policy_admin.services.audit import audit_record
from policy_admin.services.concepts import _check_image
from policy_admin.services.drafts import draft_begin_change
from policy_admin.services.policies import policy_create
from tenants.scoping import scoped

RULE_MODELS = {
    # Conditions first: they protect the sets they read from deletion.
    "conditions": ConditionalRule,
    "thresholds": CategoryThreshold,
    "keywords": KeywordRuleSet,
    "embeddings": EmbeddingRuleSet,
    "concepts": ClipConcept,
}


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the policy at its new revision, and the audited summary."""

    policy: Policy
    summary: str
    counts: dict


def policy_export(policy: Policy) -> str:
    """The policy's draft as YAML (schema version 1); the same draft always gives the same text."""
    return dump(policy_document(policy))


@transaction.atomic
def policy_import(
    *,
    policy: Policy,
    actor,
    revision: int | None,
    text: str | bytes,
    images_zip: bytes | None = None,
) -> ImportResult:
    """Replace the draft's rules with the YAML's, all or nothing, audited as one import.

    Every problem of the YAML and the zip is collected and raised together
    (PolicyYamlError) before anything is written; a stale revision is refused.
    """
    document, images = _checked(policy.tenant, text, images_zip, policy)
    return _replace_draft(policy, actor, revision, document, images)


@transaction.atomic
def policy_create_from_yaml(
    *, tenant, actor, slug: str, text: str | bytes, images_zip: bytes | None = None
) -> ImportResult:
    """Create a policy named as in the YAML and import the YAML into it, all or nothing."""
    document, images = _checked(tenant, text, images_zip)
    meta = document["policy"]
    policy = policy_create(
        tenant=tenant, actor=actor, name=meta["name"], slug=slug, description=meta["description"]
    )
    return _replace_draft(policy, actor, policy.revision, document, images)


def _checked(tenant, text, images_zip, policy=None) -> tuple[dict, dict[str, ImageUpload]]:
    document, problems = validate(load(text))
    images = _resolve_images(tenant, document, images_zip, problems) if document else {}
    if document and document["rules"].get("classifiers") is not None:
        document["rules"]["classifiers"] = classifier_versions(
            policy, document["rules"]["classifiers"], problems
        )
    if problems:
        raise PolicyYamlError(problems)
    return document, images


def _resolve_images(tenant, document, images_zip, problems) -> dict[str, ImageUpload]:
    wanted = {
        image["sha256"]: join(f"rules.concepts[{ci}].images", ii)
        for ci, concept in enumerate(document["rules"]["concepts"])
        for ii, image in enumerate(concept["images"])
    }
    found = {}
    if images_zip:
        for digest, entry in zip_images(images_zip, problems).items():
            if digest in wanted:
                found[digest] = _checked_upload(
                    ImageUpload(entry.filename, entry.data), wanted[digest], problems
                )
    missing = set(wanted) - set(found)
    found.update(_tenant_images(tenant, missing, problems))
    for digest in sorted(set(wanted) - set(found), key=wanted.get):
        problems.append(
            Problem(
                join(wanted[digest], "sha256"),
                (
                    "no image with this sha256: put the file in the zip beside the YAML, "
                    "or upload it to a concept of this tenant first"
                ),
            )
        )
    return found


def _checked_upload(upload: ImageUpload, path: str, problems) -> ImageUpload | None:
    try:
        _check_image(upload)
    except ApplicationError as error:
        problems.append(Problem(path, f"the zip's {upload.name}: {error.message}"))
    return upload


def _tenant_images(tenant, digests: set[str], problems) -> dict[str, ImageUpload]:
    found = {}
    for image in scoped(ConceptImage, tenant).filter(sha256__in=digests).order_by("id"):
        if image.sha256 in found:
            continue
        try:
            with image.image.open("rb") as handle:
                data = handle.read()
        except OSError:
            continue  # the file is gone; another copy, the zip, or a problem below
        if hashlib.sha256(data).hexdigest() == image.sha256:
            found[image.sha256] = ImageUpload(image.original_name, data)
    return found


def _replace_draft(policy, actor, revision, document, images) -> ImportResult:
    locked = draft_begin_change(policy=policy, revision=revision, actor=actor)
    before = _counts(policy)
    old_files = [
        (i.image.storage, i.image.name)
        for i in scoped(ConceptImage, policy.tenant).filter(concept__policy=policy)
    ]
    for model in RULE_MODELS.values():
        scoped(model, policy.tenant).filter(policy=policy).delete()
    saved_files = []
    try:
        _create_rules(policy, document["rules"], images, saved_files)
    except BaseException:
        for storage, name in saved_files:
            storage.delete(name)
        raise
    if document["rules"].get("classifiers") is not None:
        _pin_classifiers(policy, document["rules"]["classifiers"])
    _rename(policy, locked, document["policy"])
    after = _counts(policy)
    summary = _summary(before, after)
    audit_record(
        tenant=policy.tenant,
        actor=actor,
        verb="import",
        target=policy,
        policy=policy,
        summary=summary,
        before=before,
        after=after,
    )
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in old_files])
    return ImportResult(policy=policy, summary=summary, counts=after)


def _create_rules(policy, rules: dict, images: dict, saved_files: list) -> None:
    owned = {"tenant": policy.tenant, "policy": policy}
    for t in rules["thresholds"]:
        _saved(CategoryThreshold(**owned, **t))
    for k in rules["keywords"]:
        _saved(
            KeywordRuleSet(
                **owned,
                name=k["name"],
                action=k["action"],
                applies_to=k["applies_to"],
                **k["options"],
                languages=k["languages"],
                notes=k["notes"],
                allow_list="\n".join(k["allow_list"]),
                terms="\n".join(k["terms"]),
                term_count=len(k["terms"]),
            )
        )
    for e in rules["embeddings"]:
        _saved(EmbeddingRuleSet(**owned, **e))
    for c in rules["concepts"]:
        fields = {key: value for key, value in c.items() if key != "images"}
        concept = _saved(ClipConcept(**owned, **fields))
        for image in c["images"]:
            _add_image(concept, image, images[image["sha256"]], saved_files)
    create_conditions(owned, rules["conditions"], _saved)


def _pin_classifiers(policy, chosen: list) -> None:
    """Pin each listed classifier's version, threshold and action; unpin the unlisted ones.

    Classifiers are updated in place, never deleted: their trainings and versions stay.
    """
    listed = set()
    for classifier, version, entry in chosen:
        classifier.version = version
        classifier.threshold, classifier.action = entry["threshold"], entry["action"]
        _saved(classifier)
        listed.add(classifier.pk)
    unlisted = scoped(CustomClassifier, policy.tenant).filter(policy=policy).exclude(pk__in=listed)
    unlisted.update(version=None)


def _saved(rule):
    rule.full_clean()
    rule.save()
    return rule


def _add_image(concept, image: dict, upload: ImageUpload, saved_files: list) -> None:
    row = ConceptImage(
        tenant=concept.tenant,
        concept=concept,
        positive=image["polarity"] == "positive",
        sha256=image["sha256"],
        original_name=image["filename"],
    )
    row.image.save(image["filename"], ContentFile(upload.data), save=False)
    saved_files.append((row.image.storage, row.image.name))
    _saved(row)


def _rename(policy: Policy, locked: Policy, meta: dict) -> None:
    for target in (policy, locked):
        target.name, target.description = meta["name"], meta["description"]
        target.failure_mode = meta["failure_mode"]
    locked.full_clean(exclude=["created_by"])  # null once its author is deleted
    locked.save(update_fields=["name", "description", "failure_mode"])


def _counts(policy: Policy) -> dict:
    tenant = policy.tenant
    counts = {
        kind: scoped(m, tenant).filter(policy=policy).count() for kind, m in RULE_MODELS.items()
    }
    counts["terms"] = sum(
        scoped(KeywordRuleSet, tenant).filter(policy=policy).values_list("term_count", flat=True)
    )
    counts["images"] = scoped(ConceptImage, tenant).filter(concept__policy=policy).count()
    counts["classifiers"] = (
        scoped(CustomClassifier, tenant).filter(policy=policy, version__isnull=False).count()
    )
    return counts


def _summary(before: dict, after: dict) -> str:
    def listing(c):
        conditions = f", {c['conditions']} conditional rules" if c["conditions"] else ""
        return (
            f"{c['thresholds']} thresholds, {c['keywords']} keyword sets "
            f"({c['terms']:,} terms), {c['embeddings']} embedding sets, "
            f"{c['concepts']} concepts ({c['images']} images), "
            f"{c['classifiers']} classifiers{conditions}"
        )

    return f"imported YAML: {listing(after)}; replaced {listing(before)}"
