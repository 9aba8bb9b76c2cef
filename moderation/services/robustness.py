"""Running a keyword set's robustness report: queue it, then judge its variants on a worker.

The report judges the set exactly as a bundle built now holds it
(policy_admin.bundles.builder.keyword_set_bundled), with the engine's matcher;
rows are written through policy_admin.services.robustness.
"""

import logging
import random

from django.db import transaction

from moderation.analysis.robustness import robustness_report
from policy_admin.bundles.builder import keyword_set_bundled
from policy_admin.models import KeywordRobustnessReport, KeywordRuleSet
from policy_admin.services import robustness as reports

log = logging.getLogger(__name__)


@transaction.atomic
def keyword_robustness_start(
    *, keyword_set: KeywordRuleSet, actor, seed: int | None = None
) -> KeywordRobustnessReport:
    """Store a queued report of the set (a random seed unless given) and send its task."""
    from moderation.tasks.robustness import keyword_robustness_run

    seed = random.randrange(1_000_000) if seed is None else seed
    report = reports.robustness_report_create(keyword_set=keyword_set, actor=actor, seed=seed)
    report_id = report.pk
    transaction.on_commit(lambda: keyword_robustness_run.delay(report_id))
    return report


def keyword_robustness_execute(*, report_id: int) -> KeywordRobustnessReport | None:
    """Compute a queued report and store it (or why it failed); None when it was not queued."""
    report = reports.robustness_report_claim(report_id=report_id)
    if report is None:
        return None
    try:
        keyword_set = KeywordRuleSet.objects.get(pk=report.keyword_set_id, tenant=report.tenant_id)
        result = robustness_report(keyword_set_bundled(keyword_set), seed=report.seed)
    except Exception as error:
        log.exception("robustness report %s failed", report_id)
        return reports.robustness_report_fail(
            report=report, reason=f"The worker hit an unexpected error: {error!r}. Run it again."
        )
    return reports.robustness_report_finish(report=report, result=result)
