"""Scoring-side tables: test runs, sample sets and samples, and alert rules with their events."""

from moderation.models.alerts import AlertEvent, AlertRule, new_webhook_secret
from moderation.models.runs import (
    Sample,
    SampleImport,
    SampleResult,
    SampleSet,
    TestRun,
    TestRunImage,
    sample_image_path,
    test_run_image_path,
)

__all__ = [
    "AlertEvent",
    "AlertRule",
    "Sample",
    "SampleImport",
    "SampleResult",
    "SampleSet",
    "TestRun",
    "TestRunImage",
    "new_webhook_secret",
    "sample_image_path",
    "test_run_image_path",
]
