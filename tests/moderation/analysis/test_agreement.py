import pytest

from moderation.analysis.agreement import consensus_action, consensus_categories


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ([], None),
        (["flag"], "flag"),
        (["allow", "allow", "block"], "allow"),
        (["allow", "block"], "block"),
        (["review", "flag", "flag", "review"], "review"),
    ],
)
def test_consensus_is_the_majority_and_a_tie_goes_to_the_stricter_action(actions, expected):
    assert consensus_action(actions) == expected


def test_consensus_categories_are_those_half_the_reviewers_named():
    labels = [["sexual", "violence"], ["sexual"], ["self-harm"], []]
    assert consensus_categories(labels) == ["sexual"]
