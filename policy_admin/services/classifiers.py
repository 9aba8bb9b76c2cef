"""Custom classifiers of a draft, their immutable versions, and pinning a version in the draft."""

from django.db import transaction
from django.db.models import Max

from kernel.errors import ApplicationError
from policy_admin.models import ClassifierVersion, CustomClassifier, Policy
from policy_admin.services.policies import rule_delete, rule_save

CLASSIFIER_FIELDS = (
    "name",
    "target",
    "positives",
    "negatives",
    "threshold",
    "target_precision",
    "action",
    "version",
)


@transaction.atomic
def classifier_save(
    *,
    policy: Policy,
    actor,
    revision: int | None,
    classifier: CustomClassifier | None = None,
    **fields,
) -> CustomClassifier:
    """Create or change a classifier's name, target, sample filters, threshold and action.

    Changing the target of a classifier that has versions is refused: its
    versions were trained on the other input.
    """
    classifier = classifier or CustomClassifier(tenant=policy.tenant, policy=policy)
    if "version" in fields:
        raise ApplicationError("Choose a trained version with “Use this version”.")
    target = fields.get("target")
    if classifier.pk and target and target != classifier.target and classifier.versions.exists():
        raise ApplicationError(
            f"{classifier.name} has versions trained on {classifier.get_target_display().lower()}; "
            "create a new classifier for the other input."
        )
    return rule_save(
        policy=policy,
        rule=classifier,
        actor=actor,
        revision=revision,
        fields=fields,
        audit_fields=CLASSIFIER_FIELDS,
    )


@transaction.atomic
def classifier_delete(*, classifier: CustomClassifier, actor, revision: int | None) -> None:
    """Delete a classifier with its versions and trainings."""
    rule_delete(
        policy=classifier.policy,
        rule=classifier,
        actor=actor,
        revision=revision,
        fields=CLASSIFIER_FIELDS,
    )


@transaction.atomic
def classifier_version_create(
    *, classifier: CustomClassifier, actor, target: str, **fields
) -> ClassifierVersion:
    """Store a training's result as the classifier's next version number; never edited later."""
    locked = CustomClassifier.objects.select_for_update().get(pk=classifier.pk)
    if locked.target != target:
        raise ApplicationError(
            f"The training used {target}s but {locked.name} now classifies {locked.target}s; "
            "train it again."
        )
    last = locked.versions.aggregate(last=Max("number"))["last"] or 0
    version = ClassifierVersion(
        tenant=locked.tenant,
        classifier=locked,
        number=last + 1,
        target=target,
        created_by=actor,
        **fields,
    )
    version.full_clean()
    version.save()
    return version


@transaction.atomic
def classifier_version_use(
    *,
    classifier: CustomClassifier,
    version: ClassifierVersion,
    actor,
    revision: int | None,
    threshold: float | None = None,
) -> CustomClassifier:
    """Pin `version` (and optionally a new threshold) in the draft, as one audited change."""
    if version.classifier_id != classifier.pk or version.tenant_id != classifier.tenant_id:
        raise ApplicationError(
            f"v{version.number} is a version of another classifier, not of {classifier.name}."
        )
    fields = {"version": version}
    if threshold is not None:
        fields["threshold"] = threshold
    return rule_save(
        policy=classifier.policy,
        rule=classifier,
        actor=actor,
        revision=revision,
        fields=fields,
        audit_fields=CLASSIFIER_FIELDS,
        verb="update",
        summary=f"classifier {classifier.name} uses v{version.number}",
    )
