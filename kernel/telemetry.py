"""Prometheus series of the scoring side: tasks, evaluations, model time, bundle fetches.

Django-free, so the fleet agent could export the same series. Under gunicorn
or a prefork worker, set PROMETHEUS_MULTIPROC_DIR so every process's samples
are collected together (docs/operations.md).
"""

import os

import prometheus_client
from prometheus_client import Counter, Histogram, multiprocess

TASK_DURATION = Histogram(
    "moderation_task_duration_seconds",
    "Time Celery tasks took, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
TASK_FAILURES = Counter(
    "moderation_task_failures_total", "Celery tasks that raised, by task.", ["task"]
)
EVALUATIONS = Counter(
    "moderation_evaluations_total",
    "Inputs judged, by policy and final action.",
    ["policy", "action"],
)
INFERENCE_SECONDS = Histogram(
    "moderation_model_inference_seconds",
    "Time in each model stage of evaluate, by device.",
    ["model", "device"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BUNDLE_FETCHES = Counter(
    "moderation_bundle_fetches_total",
    "Fleet bundle requests, by HTTP status (200 or 304).",
    ["status"],
)

# The engine's timing stages that run a model, and which model each one runs.
STAGE_MODELS = {"embed": "text_encoder", "categories": "classifiers", "concepts": "clip"}


def record_decisions(policy: str, decisions: list[dict], device: str) -> None:
    """Count judged inputs by action and observe each model stage's time."""
    for decision in decisions:
        EVALUATIONS.labels(policy=policy, action=decision["action"]).inc()
        for stage, model in STAGE_MODELS.items():
            ms = decision["timings_ms"].get(stage, 0.0)
            if ms:
                INFERENCE_SECONDS.labels(model=model, device=device).observe(ms / 1000)


def serve_worker_metrics(port: int) -> None:
    """Serve this worker's series (all its pool processes' with a multiprocess folder) on `port`."""
    registry = prometheus_client.REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    prometheus_client.start_http_server(port, registry=registry)
