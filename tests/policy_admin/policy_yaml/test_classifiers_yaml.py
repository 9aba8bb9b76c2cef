"""Classifier rules in policy YAML: which classifier, which version, threshold and action."""

import pytest
import yaml

from policy_admin.models import CustomClassifier
from policy_admin.policy_yaml.problems import PolicyYamlError
from policy_admin.services import classifiers, policy_yaml
from tests.moderation.engine.conftest import FakeModels
from tests.policy_admin.factories import CustomClassifierFactory, PolicyFactory
from tests.policy_admin.services.test_classifiers import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def pinned(policy, editor):
    """Mascot pinned at v2 (threshold 0.7, block) and Logos trained but unpinned."""
    mascot = CustomClassifierFactory(policy=policy, name="Mascot")
    models = FakeModels()
    make_version(mascot, models)
    second = make_version(mascot, models)
    make_version(CustomClassifierFactory(policy=policy, name="Logos"), models)
    policy.refresh_from_db()
    classifiers.classifier_version_use(
        classifier=mascot, version=second, actor=editor, revision=policy.revision
    )
    mascot.refresh_from_db()
    policy.refresh_from_db()
    classifiers.classifier_save(
        policy=policy, classifier=mascot, actor=editor, revision=policy.revision,
        threshold=0.7, action="block",
    )  # fmt: skip
    policy.refresh_from_db()
    return mascot


def problems_of(policy, editor, text) -> list[str]:
    policy.refresh_from_db()
    with pytest.raises(PolicyYamlError) as refused:
        policy_yaml.policy_import(policy=policy, actor=editor, revision=policy.revision, text=text)
    return [f"{p['path']}: {p['message']}" for p in refused.value.extra["problems"]]


def test_classifier_rules_are_exported_with_version_threshold_and_action(policy, pinned):
    parsed = yaml.safe_load(policy_yaml.policy_export(policy))
    assert parsed["rules"]["classifiers"] == [
        {"name": "Mascot", "version": 2, "threshold": 0.7, "action": "block"}
    ]


def test_round_trip_restores_the_pinned_version_threshold_and_action(policy, editor, pinned):
    first = policy_yaml.policy_export(policy)
    first_version = pinned.versions.get(number=1)
    classifiers.classifier_version_use(
        classifier=pinned, version=first_version, actor=editor, revision=policy.revision,
        threshold=0.2,
    )  # fmt: skip
    policy.refresh_from_db()
    logos = CustomClassifier.objects.get(name="Logos")
    classifiers.classifier_version_use(
        classifier=logos, version=logos.versions.get(), actor=editor, revision=policy.revision
    )
    policy.refresh_from_db()
    assert policy_yaml.policy_export(policy) != first
    result = policy_yaml.policy_import(
        policy=policy, actor=editor, revision=policy.revision, text=first
    )
    assert policy_yaml.policy_export(policy) == first
    assert result.counts["classifiers"] == 1
    logos.refresh_from_db()
    assert logos.version is None  # not listed: left out of bundles, its versions kept
    assert logos.versions.count() == 1
    pinned.refresh_from_db()
    assert (pinned.version.number, pinned.threshold, pinned.action) == (2, 0.7, "block")


def test_a_file_without_classifiers_leaves_them_as_they_are(policy, editor, pinned):
    text = "version: 1\npolicy:\n  name: Renamed\nrules: {}\n"
    policy_yaml.policy_import(policy=policy, actor=editor, revision=policy.revision, text=text)
    pinned.refresh_from_db()
    assert pinned.version.number == 2


def test_an_unknown_classifier_is_a_problem_naming_it(policy, editor, pinned):
    text = (
        "version: 1\npolicy:\n  name: P\nrules:\n  classifiers:\n"
        "  - {name: Competitor logos, version: 1, threshold: 0.5, action: review}\n"
    )
    assert problems_of(policy, editor, text) == [
        "rules.classifiers[0].name: this policy has no classifier named “Competitor logos” "
        "(its classifiers: Logos, Mascot); create and train it on the policy's classifier page, "
        "then import"
    ]


def test_an_unknown_version_is_a_problem_naming_the_classifier_and_its_versions(
    policy, editor, pinned
):
    text = (
        "version: 1\npolicy:\n  name: P\nrules:\n  classifiers:\n  - {name: mascot, version: 7}\n"
    )
    assert problems_of(policy, editor, text) == [
        "rules.classifiers[0].version: Mascot has no version 7 (its versions: v1, v2); "
        "train it, or name a version it has"
    ]
    pinned.refresh_from_db()
    assert pinned.version.number == 2  # nothing half-written


def test_classifiers_of_another_policy_are_not_found(tenant, policy, editor, pinned):
    text = policy_yaml.policy_export(policy)
    other = PolicyFactory(tenant=tenant, slug="other")
    [problem] = problems_of(other, editor, text)
    assert problem.startswith("rules.classifiers[0].name: this policy has no classifier named")
    assert "(its classifiers: none)" in problem


def test_a_repeated_classifier_and_a_bad_threshold_are_reported(policy, editor, pinned):
    text = (
        "version: 1\npolicy:\n  name: P\nrules:\n  classifiers:\n"
        "  - {name: Mascot, version: 1}\n  - {name: Mascot, version: 2, threshold: 3}\n"
    )
    problems = problems_of(policy, editor, text)
    assert "rules.classifiers[1].threshold: 3 is out of range: use 0 to 1" in problems
    assert "rules.classifiers[1].name: “Mascot” is also the name of rules.classifiers[0]" in (
        problems
    )
