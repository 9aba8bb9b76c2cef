"""Probes: liveness touches nothing, readiness checks the database and the broker."""

import pytest

from kernel import probe

pytestmark = pytest.mark.django_db


# The probe paths are spelled out, not reversed: deploy/ (Kubernetes, the Dockerfile) calls them.
def test_liveness_is_ok_without_login(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readiness_checks_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": {"ok": True}, "broker": {"ok": True}}


def test_readiness_fails_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert "Error" in response.json()["checks"]["broker"]["error"]


def test_worker_probes_follow_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("MODERATION_WORKER_STATE_DIR", str(tmp_path))
    assert probe.main(["ready"]) == 1
    probe.mark("ready")
    probe.mark("alive")
    assert probe.main(["ready"]) == 0
    assert probe.main(["live"]) == 0
    old = tmp_path / "alive"
    import os

    os.utime(old, (0, 0))
    assert probe.check("live") == (False, probe.check("live")[1])
    assert "last heartbeat" in probe.check("live")[1]
