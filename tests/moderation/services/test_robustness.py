"""Running a keyword set's robustness report: queued on commit, judged with the set as bundled."""

import pytest

from moderation.services.robustness import keyword_robustness_execute, keyword_robustness_start
from moderation.tasks.robustness import keyword_robustness_run
from policy_admin.models import KeywordRobustnessReport
from tests.policy_admin.factories import KeywordRuleSetFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]


@pytest.fixture
def evasions(policy):
    return KeywordRuleSetFactory(
        policy=policy, name="Evasions", terms="nude\nnaked\nanal", term_count=3
    )


def test_a_report_is_queued_on_commit_and_judged_by_the_task(
    evasions, editor, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = keyword_robustness_start(keyword_set=evasions, actor=editor, seed=5)
    assert queued == [report.pk]
    keyword_robustness_run(report.pk)
    report.refresh_from_db()
    assert report.status == KeywordRobustnessReport.Status.SUCCEEDED
    result = report.result
    assert (result["seed"], result["terms_total"]) == (5, 3)
    rows = {row["name"]: row for row in result["operators"]}
    assert rows["accents"]["recall"] == 1.0
    assert rows["squeeze_repeats"]["expected"] is False  # off by default
    assert result["variants_per_second"] > 0
    # The benign probe ran over the shipped word list: "analysis" holds "anal".
    assert result["benign"]["modes"]["substring"]["false_hits"] > 0
    assert result["benign"]["modes"]["whole_word"]["false_hits"] == 0


def test_the_report_judges_the_sets_own_options(evasions, editor):
    evasions.squeeze_repeats = True
    evasions.save()
    report = keyword_robustness_start(keyword_set=evasions, actor=editor, seed=1)
    done = keyword_robustness_execute(report_id=report.pk)
    rows = {row["name"]: row for row in done.result["operators"]}
    assert rows["squeeze_repeats"]["expected"] is True
    assert rows["squeeze_repeats"]["recall"] == 1.0


def test_a_report_runs_once(evasions, editor):
    report = keyword_robustness_start(keyword_set=evasions, actor=editor)
    assert 0 <= report.seed < 1_000_000
    assert keyword_robustness_execute(report_id=report.pk) is not None
    assert keyword_robustness_execute(report_id=report.pk) is None  # redelivered: nothing to do


def test_an_error_is_stored_on_the_report(evasions, editor, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr("moderation.services.robustness.robustness_report", broken)
    report = keyword_robustness_start(keyword_set=evasions, actor=editor)
    failed = keyword_robustness_execute(report_id=report.pk)
    assert failed.status == KeywordRobustnessReport.Status.FAILED
    assert "out of memory" in failed.error
    assert "Run it again" in failed.error
