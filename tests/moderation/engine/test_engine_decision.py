"""The action ladder and how a decision picks its action."""

import json

import pytest

from moderation.engine.decision import Action, Decision, RuleResult, Stamp, final_action

STAMP = Stamp("acme", "default", 2, 5, "ab" * 32)


def result(action: Action, fired: bool) -> RuleResult:
    return RuleResult("keyword", "r", "rule", "prompt", action, fired, 1.0, None, {})


def test_ladder_is_ordered():
    assert Action.ALLOW < Action.FLAG < Action.REVIEW < Action.BLOCK
    assert max([Action.FLAG, Action.BLOCK, Action.REVIEW]) is Action.BLOCK


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([], Action.ALLOW),
        ([result(Action.BLOCK, False)], Action.ALLOW),
        ([result(Action.FLAG, True), result(Action.BLOCK, False)], Action.FLAG),
        ([result(Action.FLAG, True), result(Action.REVIEW, True)], Action.REVIEW),
        ([result(Action.BLOCK, True), result(Action.REVIEW, True)], Action.BLOCK),
    ],
)
def test_decision_takes_the_highest_action_of_fired_rules(results, expected):
    assert final_action(results) is expected
    decision = Decision.from_results(results, timings_ms={}, stamp=STAMP)
    assert decision.action is expected


def test_unknown_action_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="allow, flag, review, block"):
        Action.parse("deny")


def test_decision_serialises_to_json():
    decision = Decision.from_results(
        [result(Action.BLOCK, True)], timings_ms={"keywords": 0.1}, stamp=STAMP, calibrated=False
    )
    data = json.loads(json.dumps(decision.as_dict()))
    assert data["action"] == "block"
    assert data["calibrated"] is False
    assert data["stamp"]["version"] == 2
    assert data["results"][0]["fired"] is True
