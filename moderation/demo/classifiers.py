"""The demo's custom classifier: trained on the demo sample set, used in the draft.

Trained in this process through the real services (start, claim, execute), so
the demo shows a finished training with metrics, and the bundle published
afterwards carries the classifier to the fleet.
"""

from kernel.registry import models
from moderation.services import classifiers as training
from policy_admin.models import CustomClassifier
from policy_admin.services import classifiers as authoring

DEMO_CLASSIFIER = "Drug talk"


def seed_classifier(*, policy, sample_set, actor) -> CustomClassifier:
    """A prompt classifier of drug talk against allowed prompts, trained and used in the draft."""
    CustomClassifier.objects.filter(policy=policy, name=DEMO_CLASSIFIER).delete()
    policy.refresh_from_db()
    classifier = authoring.classifier_save(
        policy=policy,
        actor=actor,
        revision=policy.revision,
        name=DEMO_CLASSIFIER,
        target=CustomClassifier.Target.PROMPT,
        positives={"tags": ["drugs"]},
        negatives={"actions": ["allow"]},
        action="review",
        target_precision=0.9,
    )
    run = training.training_start(classifier=classifier, sample_set=sample_set, actor=actor)
    run = training.training_claim(run_id=run.pk)
    run = training.training_execute(run=run, models=models())
    policy.refresh_from_db()
    return authoring.classifier_version_use(
        classifier=classifier,
        version=run.version,
        actor=actor,
        revision=policy.revision,
        threshold=round(run.version.metrics["suggested_threshold"], 3),
    )
