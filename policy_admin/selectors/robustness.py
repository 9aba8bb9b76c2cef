"""Reading keyword sets' robustness reports: the latest one, and whether it is out of date."""

import dataclasses
import hashlib
import json

from policy_admin.models import KeywordRobustnessReport, KeywordRuleSet


def keyword_set_fingerprint(keyword_set: KeywordRuleSet) -> str:
    """A digest of what a robustness report judges: the set's terms, allow list and options."""
    data = {
        "terms": keyword_set.terms,
        "allow": keyword_set.allow_list,
        "options": dataclasses.asdict(keyword_set.match_options()),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def robustness_latest(*, keyword_set: KeywordRuleSet) -> KeywordRobustnessReport | None:
    """The set's most recent report, whatever its status."""
    return keyword_set.robustness_reports.filter(tenant_id=keyword_set.tenant_id).first()


def robustness_latest_finished(*, keyword_set: KeywordRuleSet) -> KeywordRobustnessReport | None:
    """The set's most recent report that succeeded."""
    reports = keyword_set.robustness_reports.filter(
        tenant_id=keyword_set.tenant_id, status=KeywordRobustnessReport.Status.SUCCEEDED
    )
    return reports.first()


def robustness_is_current(report: KeywordRobustnessReport, keyword_set: KeywordRuleSet) -> bool:
    """Whether the set's terms and options are still those the report judged."""
    return report.fingerprint == keyword_set_fingerprint(keyword_set)
