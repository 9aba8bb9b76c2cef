"""Fixtures shared by the scoring-side tests."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest


@pytest.fixture
def receiver():
    """A webhook receiver on loopback that keeps what it was sent."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


@pytest.fixture
def queued(monkeypatch):
    """The ids that live tests, suites and robustness reports queued; a test runs the task
    in-process instead."""
    sent = []
    monkeypatch.setattr("moderation.tasks.gpu.run_execute.delay", sent.append)
    monkeypatch.setattr("moderation.tasks.gpu.suite_run_execute.delay", sent.append)
    monkeypatch.setattr("moderation.tasks.robustness.keyword_robustness_run.delay", sent.append)
    return sent


@pytest.fixture
def alerts_delivered_here(monkeypatch):
    """Alert events are delivered in this process when their change commits, not on the queue.

    The queued path itself, with a real worker, is tested in tasks/test_alert_delivery.py.
    """
    from moderation.services.alerts import alert_event_deliver

    delivered = []

    def deliver(event_id):
        delivered.append(alert_event_deliver(event_id=event_id))

    monkeypatch.setattr("moderation.tasks.alerts.alert_deliver.delay", deliver)
    return delivered


@pytest.fixture
def two_runs(policy):
    """A baseline and a current suite of the policy on one set, with known scores per sample."""
    from tests.moderation.quality_data import two_suites

    return two_suites(policy)
