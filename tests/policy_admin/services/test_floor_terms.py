"""Locked floor keyword sets check their terms with their own match options, as tenant sets do."""

import pytest

from policy_admin.services.floors import floor_keyword_set_save

pytestmark = pytest.mark.django_db


def test_floor_terms_fold_with_the_sets_options_naming_both(admin):
    lines = [(1, "naked"), (2, "n@ked"), (3, "5"), (4, "gore")]
    keyword_set, report = floor_keyword_set_save(actor=admin, name="Floor", terms=lines)
    assert keyword_set.term_list() == ["naked", "gore"]
    (duplicate,) = report.duplicate_terms
    assert (duplicate.line, duplicate.term, duplicate.kept, duplicate.kept_line) == (
        2,
        "n@ked",
        "naked",
        1,
    )
    assert str(duplicate) == "line 2: \u201cn@ked\u201d reads as \u201cnaked\u201d"
    (problem,) = report.problems
    assert problem.line == 3
    assert "folds to a single letter" in problem.reason


def test_floor_terms_stay_distinct_with_symbols_off(admin):
    lines = [(1, "naked"), (2, "n@ked")]
    keyword_set, report = floor_keyword_set_save(
        actor=admin, name="Floor", terms=lines, leet_symbols=False, leetspeak=False
    )
    assert keyword_set.term_list() == ["naked", "n@ked"]
    assert report.duplicates == 0
