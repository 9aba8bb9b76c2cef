"""The moderation service's Prometheus metrics, in a registry of its own (GET /metrics).

- `moderation_agent_queue_depth{stage}`: inputs waiting for each stage's next batch, and
  `moderation_agent_in_flight`: inputs admitted and not answered yet (the bounded queue).
- `moderation_agent_batch_size{stage}`: histogram of the inputs in each model batch.
- `moderation_agent_stage_seconds{stage}`: histogram of each batch's engine time.
- `moderation_agent_request_seconds{endpoint}`: histogram of answered requests' latency.
- `moderation_agent_rejections_total{reason}`: overloaded, deadline, too_large, bad_request,
  no_bundle, slow_body, engine_error.
- `moderation_agent_decisions_total{action}`: decisions answered, by action.
- `moderation_agent_bundle_version{policy,channel,sha256,failure_mode}`: the active bundle
  (-1 for a draft without version; absent before any bundle is active).
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
REJECTION_REASONS = (
    "overloaded", "deadline", "too_large", "bad_request", "no_bundle", "slow_body",
    "engine_error",
)  # fmt: skip


class _LiveCollector(Collector):
    """Values read at scrape time: queue depths and the active bundle."""

    def __init__(self, depths: Callable[[], dict[str, int]], in_flight: Callable[[], int],
                 bundle: Callable[[], dict | None]) -> None:  # fmt: skip
        self.depths, self.in_flight, self.bundle = depths, in_flight, bundle

    def collect(self):
        depth = GaugeMetricFamily(
            "moderation_agent_queue_depth", "Inputs waiting for a stage's batch", labels=["stage"]
        )
        for stage, n in self.depths().items():
            depth.add_metric([stage], n)
        yield depth
        yield GaugeMetricFamily(
            "moderation_agent_in_flight", "Inputs admitted and not answered", value=self.in_flight()
        )
        version = GaugeMetricFamily(
            "moderation_agent_bundle_version",
            "Version of the active bundle (-1 for a draft)",
            labels=["policy", "channel", "sha256", "failure_mode"],
        )
        active = self.bundle()
        if active is not None:
            labels = [active["policy"], active["channel"], active["sha256"], active["failure_mode"]]
            version.add_metric(labels, -1 if active["version"] is None else active["version"])
        yield version


class ServiceMetrics:
    """The service's counters and histograms; `live` values are read when scraped."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.batch_size = Histogram(
            "moderation_agent_batch_size", "Inputs per model batch", ["stage"],
            buckets=BATCH_BUCKETS, registry=r,
        )  # fmt: skip
        self.stage_seconds = Histogram(
            "moderation_agent_stage_seconds", "Engine time of one stage batch", ["stage"],
            buckets=SECONDS_BUCKETS, registry=r,
        )  # fmt: skip
        self.request_seconds = Histogram(
            "moderation_agent_request_seconds", "Latency of answered checks", ["endpoint"],
            buckets=SECONDS_BUCKETS, registry=r,
        )  # fmt: skip
        self.rejections = Counter(
            "moderation_agent_rejections", "Requests refused, by reason", ["reason"], registry=r
        )
        self.decisions = Counter(
            "moderation_agent_decisions", "Decisions answered, by action", ["action"], registry=r
        )
        for reason in REJECTION_REASONS:
            self.rejections.labels(reason)

    def watch(self, depths, in_flight, bundle) -> None:
        """Register the scrape-time values (called once by the service)."""
        self.registry.register(_LiveCollector(depths, in_flight, bundle))

    def render(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)
