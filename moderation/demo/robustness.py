"""The demo's robustness reports: one per keyword set of the example policy, judged here."""

from moderation.services.robustness import keyword_robustness_execute, keyword_robustness_start
from policy_admin.models import KeywordRobustnessReport, KeywordRuleSet

DEMO_SEED = 14  # fixed, so that the demo shows the same variants every time


def seed_robustness(*, policy, actor) -> list[KeywordRobustnessReport]:
    """Run the robustness report of each of the policy's keyword sets in this process."""
    reports = []
    for keyword_set in KeywordRuleSet.objects.filter(policy=policy, term_count__gt=0):
        keyword_set.policy = policy
        started = keyword_robustness_start(keyword_set=keyword_set, actor=actor, seed=DEMO_SEED)
        reports.append(keyword_robustness_execute(report_id=started.pk))
    return reports


def describe(report: KeywordRobustnessReport) -> str:
    """One line of the demo's output: the set, its lowest expected recall, the variants/s."""
    result = report.result
    expected = [row for row in result["operators"] if row["expected"] and row["recall"] is not None]
    lowest = min(expected, key=lambda row: row["recall"])
    return (
        f"  {report.keyword_set.name}: {result['variants']:,} variants, lowest recall "
        f"{lowest['recall']:.0%} ({lowest['label'].lower()}), "
        f"{result['variants_per_second']:,} variants/s"
    )
