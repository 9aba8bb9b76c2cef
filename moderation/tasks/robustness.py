"""Robustness reports of keyword sets: CPU work, on the `default` queue."""

from celery import shared_task

from moderation.services.robustness import keyword_robustness_execute

# A report of 200 sampled terms takes seconds; the limits stop a runaway one.
SOFT_TIME_LIMIT = 600


@shared_task(
    name="moderation.tasks.robustness.keyword_robustness_run",
    ignore_result=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=SOFT_TIME_LIMIT + 60,
)
def keyword_robustness_run(report_id: int) -> None:
    """Compute and store one queued robustness report."""
    keyword_robustness_execute(report_id=report_id)
