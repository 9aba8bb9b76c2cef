"""Scoring-side tables: test runs, sample sets and samples, alert rules with their events,
production decisions with their review queues, and classifier trainings."""

from moderation.models.alerts import AlertEvent, AlertRule, new_webhook_secret
from moderation.models.production import (
    DecisionBatch,
    DecisionCount,
    DecisionRecord,
    ProductionSettings,
    ReviewClaim,
    ReviewItem,
    ReviewLabel,
    ReviewQueue,
    RoutingRule,
    ShadowCount,
)
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
from moderation.models.training import TrainingRun

__all__ = [
    "AlertEvent",
    "AlertRule",
    "DecisionBatch",
    "DecisionCount",
    "DecisionRecord",
    "ProductionSettings",
    "ReviewClaim",
    "ReviewItem",
    "ReviewLabel",
    "ReviewQueue",
    "RoutingRule",
    "Sample",
    "SampleImport",
    "SampleResult",
    "SampleSet",
    "ShadowCount",
    "TestRun",
    "TestRunImage",
    "TrainingRun",
    "new_webhook_secret",
    "sample_image_path",
    "test_run_image_path",
]
