"""Classifiers in the draft: saving, versions, "use this version", and the bundle they make."""

import dataclasses

import numpy as np
import pytest

from kernel.errors import ApplicationError
from moderation.engine.bundle import Bundle
from moderation.engine.evaluate import evaluate
from policy_admin.bundles.builder import bundle_build
from policy_admin.models import AuditEvent
from policy_admin.services import classifiers as service
from tests.moderation.engine.conftest import FakeModels
from tests.policy_admin.factories import CustomClassifierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def models():
    return FakeModels()


@pytest.fixture
def classifier(policy):
    return CustomClassifierFactory(policy=policy, name="Mascot", action="block", threshold=0.5)


def make_version(classifier, models, *, encoder=None, actor=None):
    """A prompt version pointing at 'mascot' in the fake text space."""
    encoder = encoder or models.text
    direction = models.text.encode(["mascot"])[0].astype(float)
    return service.classifier_version_create(
        classifier=classifier,
        actor=actor,
        target="prompt",
        coefficients={
            "weights": list(direction * 8),
            "bias": -4.0,
            "scaler": {"mean": [0.0] * encoder.dim, "scale": [1.0] * encoder.dim},
            "calibration": {"method": "platt", "a": 1.0, "b": 0.0},
        },
        feature_pins={
            "encoder": {**encoder.pin.as_dict(), "dim": encoder.dim},
            "outputs": [],
            "output_models": {},
        },
        metrics={"average_precision": 1.0},
        sample_set_id=1,
        sample_ids=[1, 2],
        sample_labels=[1, 0],
        samples_sha256="0" * 64,
    )


def test_use_this_version_pins_it_in_the_draft_with_an_audit_entry(classifier, models, editor):
    version = make_version(classifier, models)
    revision = classifier.policy.revision
    service.classifier_version_use(
        classifier=classifier, version=version, actor=editor, revision=revision, threshold=0.7
    )
    classifier.refresh_from_db()
    assert (classifier.version, classifier.threshold) == (version, 0.7)
    event = AuditEvent.objects.filter(policy=classifier.policy).latest("pk")
    assert event.summary == "classifier Mascot uses v1"
    assert classifier.policy.__class__.objects.get(pk=classifier.policy_id).revision > revision


def test_another_classifiers_version_is_refused(classifier, policy, models, editor):
    other = CustomClassifierFactory(policy=policy, name="Logos")
    version = make_version(other, models)
    with pytest.raises(ApplicationError, match="another classifier"):
        service.classifier_version_use(
            classifier=classifier, version=version, actor=editor, revision=policy.revision
        )


def test_a_stale_revision_is_refused(classifier, models, editor):
    version = make_version(classifier, models)
    with pytest.raises(ApplicationError, match="(?i)stale|changed"):
        service.classifier_version_use(
            classifier=classifier, version=version, actor=editor, revision=0
        )


def test_the_target_of_a_trained_classifier_cannot_change(classifier, models, editor):
    make_version(classifier, models)
    with pytest.raises(ApplicationError, match="new classifier"):
        service.classifier_save(
            policy=classifier.policy, classifier=classifier, actor=editor,
            revision=classifier.policy.revision, target="image",
        )  # fmt: skip


def test_versions_number_up(classifier, models):
    assert [make_version(classifier, models).number for _ in range(3)] == [1, 2, 3]


def test_the_bundle_carries_the_used_version_and_round_trips(classifier, models, editor):
    version = make_version(classifier, models)
    service.classifier_version_use(
        classifier=classifier, version=version, actor=editor, revision=classifier.policy.revision
    )
    bundle = bundle_build(policy=classifier.policy, models=models).bundle
    [rule] = bundle.classifiers
    assert (rule.id, rule.version, rule.target, rule.encoder) == (
        f"classifier:{classifier.pk}",
        1,
        "prompt",
        models.text.pin.name,
    )
    assert bundle.pins[models.text.pin.name] == models.text.pin
    assert Bundle.from_bytes(bundle.to_bytes()).to_bytes() == bundle.to_bytes()
    decision = evaluate(bundle, prompt="the mascot again", models=models)
    [result] = [r for r in decision.results if r.kind == "classifier"]
    assert result.fired
    assert decision.action.value == "block"
    quiet = evaluate(bundle, prompt="a lake", models=models)
    assert not [r for r in quiet.results if r.kind == "classifier" and r.fired]


def test_an_unused_classifier_is_left_out_with_a_warning(classifier, models):
    built = bundle_build(policy=classifier.policy, models=models)
    assert built.bundle.classifiers == ()
    assert any("no version in use" in w for w in built.warnings)


def test_publishing_refuses_a_version_trained_on_other_weights(classifier, models, editor):
    other = FakeModels()
    other.text.pin = dataclasses.replace(other.text.pin, sha256="1" * 64, version="old")
    version = make_version(classifier, models, encoder=other.text)
    service.classifier_version_use(
        classifier=classifier, version=version, actor=editor, revision=classifier.policy.revision
    )
    built = bundle_build(policy=classifier.policy, models=models)
    assert built.bundle.classifiers == ()
    assert any("Train it again" in w for w in built.warnings)
    with pytest.raises(ApplicationError, match="trained on model 'minilm' 'old'"):
        bundle_build(policy=classifier.policy, models=models, strict=True)


def test_weights_survive_as_float32(classifier, models, editor):
    version = make_version(classifier, models)
    service.classifier_version_use(
        classifier=classifier, version=version, actor=editor, revision=classifier.policy.revision
    )
    [rule] = bundle_build(policy=classifier.policy, models=models).bundle.classifiers
    np.testing.assert_allclose(rule.weights, version.coefficients["weights"], rtol=1e-6)


def test_a_policy_whose_only_rule_is_a_classifier_publishes_it(classifier, editor, fleet_isolated):
    from kernel import registry
    from policy_admin.bundles.stored import version_bundle
    from policy_admin.services.publishing import policy_publish

    class Loaded:
        """The text encoder pin this process has, without loading the model."""

        def __init__(self):
            pin = registry.models().pins()["minilm"]
            self.text = type("Text", (), {"pin": pin, "dim": 384})()
            self.text.encode = lambda texts: np.ones((len(texts), 384)) / np.sqrt(384)

    version = make_version(classifier, Loaded())
    service.classifier_version_use(
        classifier=classifier, version=version, actor=editor, revision=classifier.policy.revision
    )
    classifier.policy.refresh_from_db()
    published = policy_publish(
        policy=classifier.policy, actor=editor, revision=classifier.policy.revision
    )
    [rule] = version_bundle(published).classifiers
    assert (rule.name, rule.version, rule.encoder) == ("Mascot", 1, "minilm")
