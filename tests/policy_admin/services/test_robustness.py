"""Robustness reports' rows, and the publish floor a policy can turn on."""

import pytest

from kernel.errors import ApplicationError, ConflictError
from policy_admin.models import KeywordRobustnessReport, Policy
from policy_admin.services import robustness
from policy_admin.services.publishing import policy_publish
from tests.policy_admin.factories import (
    KeywordRobustnessReportFactory,
    KeywordRuleSetFactory,
    robustness_result,
    robustness_row,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fleet_isolated")]


def publish(policy, actor):
    policy.refresh_from_db()
    return policy_publish(policy=policy, actor=actor, revision=policy.revision)


def floor_on(policy):
    Policy.objects.filter(pk=policy.pk).update(robustness_floor=True)
    policy.refresh_from_db()


def test_floor_off_publishes_whatever_the_reports_say(policy, keyword_set, editor):
    result = robustness_result(robustness_row("leetspeak", 0.5))
    KeywordRobustnessReportFactory(keyword_set=keyword_set, result=result)
    assert publish(policy, editor).number == 1


def test_floor_on_refuses_a_set_without_a_report(policy, keyword_set, editor):
    floor_on(policy)
    with pytest.raises(ApplicationError, match="“Gore” has no robustness report"):
        publish(policy, editor)


def test_floor_on_names_the_operator_and_escaped_examples(policy, keyword_set, editor):
    floor_on(policy)
    rows = (
        robustness_row("case", 1.0),
        robustness_row("leet_symbols", 0.9),
        robustness_row("squeeze_repeats", 0.0, expected=False),  # its option is off: not judged
    )
    KeywordRobustnessReportFactory(keyword_set=keyword_set, result=robustness_result(*rows))
    with pytest.raises(ApplicationError) as refused:
        publish(policy, editor)
    (problem,) = refused.value.extra["problems"]
    assert problem.startswith(
        "“Gore”: Leet symbols catches 90% of its variants (90 of 100), under the floor of 99%; "
        "escaped: 'goore', 'gooore', 'goooore'."
    )
    assert "turn the floor off" in refused.value.message


def test_floor_on_checks_pairs_too_and_passes_at_the_floor(policy, keyword_set, editor):
    floor_on(policy)
    pair = robustness_row("case+separators", 0.5)
    result = robustness_result(robustness_row("case", 0.99), pairs=(pair,))
    KeywordRobustnessReportFactory(keyword_set=keyword_set, result=result)
    with pytest.raises(ApplicationError, match="Case\\+separators catches 50%"):
        publish(policy, editor)
    KeywordRobustnessReportFactory(keyword_set=keyword_set)  # a newer one, all caught
    assert publish(policy, editor).number == 1


def test_floor_on_refuses_a_report_older_than_the_sets_terms(policy, keyword_set, editor):
    floor_on(policy)
    KeywordRobustnessReportFactory(keyword_set=keyword_set)
    keyword_set.terms += "\ndismember"
    keyword_set.save()
    with pytest.raises(ApplicationError, match="changed since its robustness report"):
        publish(policy, editor)


def test_only_the_latest_finished_report_counts(policy, keyword_set, editor):
    floor_on(policy)
    KeywordRobustnessReportFactory(keyword_set=keyword_set)
    failed = robustness_result(robustness_row("case", 0.1))
    KeywordRobustnessReportFactory(
        keyword_set=keyword_set, status=KeywordRobustnessReport.Status.FAILED, result=failed
    )
    assert publish(policy, editor).number == 1


def test_report_rows_move_pending_running_finished(keyword_set, editor):
    report = robustness.robustness_report_create(keyword_set=keyword_set, actor=editor, seed=3)
    assert (report.status, report.seed, report.policy_revision) == ("pending", 3, 1)
    with pytest.raises(ConflictError, match="already running"):
        robustness.robustness_report_create(keyword_set=keyword_set, actor=editor)
    claimed = robustness.robustness_report_claim(report_id=report.pk)
    assert claimed.status == "running"
    assert robustness.robustness_report_claim(report_id=report.pk) is None
    done = robustness.robustness_report_finish(report=claimed, result={"operators": []})
    assert (done.status, done.result) == ("succeeded", {"operators": []})
    with pytest.raises(ConflictError, match="finished, not running"):
        robustness.robustness_report_fail(report=done, reason="late")


def test_a_set_without_terms_has_no_report(policy, editor):
    empty = KeywordRuleSetFactory(policy=policy, terms="", term_count=0, name="Empty")
    with pytest.raises(ApplicationError, match="“Empty” has no terms; import terms first"):
        robustness.robustness_report_create(keyword_set=empty, actor=editor)
