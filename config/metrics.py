"""The Prometheus endpoint: every process's series plus what is read at scrape time.

Protected: a scraper sends `Authorization: Bearer <MODERATION_METRICS_TOKEN>`;
a logged-in staff member may also look. Anyone else gets a 401 or 403.
"""

import hmac
import os
from pathlib import Path

import prometheus_client
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily

from config.celery import app as celery_app
from kernel.queues import QUEUE_DEFAULT, QUEUE_GPU
from policy_admin.fleet.selectors import fleet_server_counts


class QueueDepthCollector:
    """`moderation_queue_depth{queue}`: messages waiting on each Celery queue, read at scrape."""

    def collect(self):
        gauge = GaugeMetricFamily(
            "moderation_queue_depth", "Messages waiting on a Celery queue.", labels=["queue"]
        )
        for queue, depth in queue_depths().items():
            gauge.add_metric([queue], depth)
        yield gauge


class FleetStateCollector:
    """`moderation_fleet_servers{state}`: servers current, behind, rejecting or stale, at scrape.

    Counts of every tenant together; no tenant appears in a label.
    """

    def collect(self):
        gauge = GaugeMetricFamily(
            "moderation_fleet_servers",
            "Inference servers by state for the channels they report.",
            labels=["state"],
        )
        for state, count in fleet_server_counts().items():
            gauge.add_metric([state], count)
        yield gauge


def queue_depths() -> dict[str, int]:
    """Messages waiting per queue, on Redis or the embedded filesystem broker."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return {q: sum(1 for f in folder.glob(f"*.{q}.msg")) for q in (QUEUE_DEFAULT, QUEUE_GPU)}
    with celery_app.connection_for_read(url) as conn:
        channel = conn.default_channel
        return {q: channel.client.llen(q) for q in (QUEUE_DEFAULT, QUEUE_GPU)}


def _registry() -> prometheus_client.CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.CollectorRegistry()
        for collector in list(prometheus_client.REGISTRY._collector_to_names):
            registry.register(collector)
    registry.register(QueueDepthCollector())
    registry.register(FleetStateCollector())
    return registry


def _allowed(request) -> tuple[bool, int]:
    token = settings.MODERATION_METRICS_TOKEN
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and sent and hmac.compare_digest(sent, token):
        return True, 200
    if request.user.is_authenticated and request.user.is_staff:
        return True, 200
    return False, 403 if request.user.is_authenticated or sent else 401


@never_cache
def metrics_view(request):
    """Prometheus text format for a scraper with the token, or for staff."""
    ok, status = _allowed(request)
    if not ok:
        return JsonResponse(
            {
                "message": "Metrics need `Authorization: Bearer <MODERATION_METRICS_TOKEN>`.",
                "extra": {},
            },
            status=status,
        )
    body = prometheus_client.generate_latest(_registry())
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
