"""A trained prompt classifier whose training lists one mislabelled sample as a label issue."""

from dataclasses import dataclass

from moderation.models import Sample, TrainingRun
from moderation.services import classifiers as training
from tests.moderation.engine.conftest import FakeModels
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import CustomClassifierFactory


@dataclass
class Trained:
    run: TrainingRun
    wrong: Sample  # "our mascot pose again", labelled allow: the model says review


def trained_with_issue(policy, actor, *, positives=20, negatives=20) -> Trained:
    """Positives expect review, negatives allow; one mascot prompt is labelled allow."""
    sample_set = SampleSetFactory(tenant=policy.tenant)
    classifier = CustomClassifierFactory(
        policy=policy, name="Mascot", positives={"actions": ["review"]},
        negatives={"actions": ["allow"]},
    )  # fmt: skip
    for n in range(positives):
        SampleFactory(
            sample_set=sample_set, prompt=f"our mascot pose {n}", expected_action="review"
        )
    for n in range(negatives):
        SampleFactory(sample_set=sample_set, prompt=f"a quiet lake scene {n}")
    wrong = SampleFactory(sample_set=sample_set, prompt="our mascot pose again")
    run = training.training_start(classifier=classifier, sample_set=sample_set, actor=actor)
    run = training.training_execute(run=training.training_claim(run_id=run.pk), models=FakeModels())
    assert wrong.pk in [issue["sample"] for issue in run.label_issues]
    return Trained(run=run, wrong=wrong)
