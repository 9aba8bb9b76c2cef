"""The action ladder is the engine's Action, and the final action's outcomes have one name each.

Choices, labels, ranks and outcome names elsewhere derive from them; these
tests fail if a copy drifts.
"""

import pytest

from moderation.analysis import metrics
from moderation.api.serializers.quality import QualityRunSerializer
from moderation.api.serializers.suites import SampleLabelsSerializer
from moderation.engine.decision import ACTIONS, Action
from moderation.forms.alerts import outcome_choices
from moderation.selectors import runs
from moderation.services.alert_evaluators import outcome_label, outcome_metrics
from moderation.services.samples import check_labels
from moderation.services.suites import suite_metrics_compute
from policy_admin.models import ClipConcept, EmbeddingRuleSet, FloorKeywordSet, KeywordRuleSet
from policy_admin.models.rules import RULE_ACTIONS
from policy_admin.policy_yaml.fields import ACTIONS as YAML_ACTIONS
from tests.moderation.factories import SampleResultFactory

RULE_LADDER = ["flag", "review", "block"]


def test_the_ladder_is_the_engine_enum_in_its_order():
    assert ACTIONS == ("allow", "flag", "review", "block")
    assert [a.rank for a in Action] == [0, 1, 2, 3]
    assert sorted(Action, reverse=True) == list(reversed(Action))


@pytest.mark.parametrize("model", [KeywordRuleSet, FloorKeywordSet, EmbeddingRuleSet, ClipConcept])
def test_rules_act_with_every_action_above_allow(model):
    assert [value for value, _ in RULE_ACTIONS] == RULE_LADDER
    assert model._meta.get_field("action").choices == [
        ("flag", "Flag"),
        ("review", "Review"),
        ("block", "Block"),
    ]
    assert list(YAML_ACTIONS) == RULE_LADDER


def test_a_sample_is_labelled_with_any_action_of_the_ladder():
    assert list(SampleLabelsSerializer().fields["expected_action"].choices) == list(ACTIONS)
    assert runs.ACTION_LABELS == ACTIONS
    assert check_labels("block", []) == ""
    assert check_labels("deny", []) == (
        "expected_action 'deny' is not one of allow, flag, review, block"
    )


@pytest.mark.parametrize(
    ("action", "level", "expected"),
    [("allow", "flag", False), ("flag", "flag", True), ("block", "review", True),
     ("review", "block", False), (Action.REVIEW, Action.FLAG, True)],
)  # fmt: skip
def test_at_least_reads_the_engine_ladder(action, level, expected):
    assert metrics.at_least(action, level) is expected


def test_outcomes_have_one_name_in_metrics_alerts_and_the_api():
    assert list(metrics.OUTCOMES) == ["block", "flag_or_worse"]
    got = metrics.action_metrics(["allow", "flag", "block"], ["flag", "allow", "block"])
    assert list(got) == list(metrics.OUTCOMES)
    assert outcome_choices()[:2] == [
        ("block", "Block vs not"),
        ("flag_or_worse", "Flag or worse vs not"),
    ]
    assert set(metrics.OUTCOMES) <= set(QualityRunSerializer.Meta.fields)
    assert [outcome_label(name) for name in metrics.OUTCOMES] == [
        "block vs not",
        "flag or worse vs not",
    ]
    stored = {"metrics": {"action": {name: {"recall": 0.5} for name in metrics.OUTCOMES}}}
    assert outcome_metrics(stored, "flag_or_worse") == {"recall": 0.5}
    assert outcome_metrics(stored, "flag") is None


@pytest.mark.django_db
def test_a_suite_stores_its_metrics_under_the_outcome_names():
    result = SampleResultFactory(action="flag", sample__expected_action="review")
    stored = suite_metrics_compute(result.run)
    assert list(stored["metrics"]["action"]) == list(metrics.OUTCOMES)
    assert stored["metrics"]["action"]["flag_or_worse"]["tp"] == 1
    assert stored["actions"] == {"flag": 1}
