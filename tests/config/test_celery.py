"""A real worker process on the configured broker answers on both queues."""

import subprocess
import sys

import pytest

from tests.worker import ROOT

pytestmark = pytest.mark.worker


def test_worker_answers_on_default_and_gpu_queues(celery_worker_process):
    from moderation.tasks.system import ping

    for queue in ("default", "gpu"):
        answer = ping.apply_async(args=[queue], queue=queue).get(timeout=20)
        assert answer["queue"] == queue
        assert answer["pid"] != celery_worker_process.pid  # a pool process, not the test


def test_scoring_tasks_are_routed_to_the_gpu_queue():
    from config.celery import app

    route = app.amqp.router.route({}, "moderation.tasks.gpu.live_test_run")
    assert route["queue"].name == "gpu"
    assert app.amqp.router.route({}, "moderation.tasks.system.ping")["queue"].name == "default"


def test_worker_check_fails_loudly_without_a_worker(db):
    from tests.worker import purge_broker

    purge_broker()
    result = subprocess.run(
        [sys.executable, "manage.py", "worker_check", "--timeout", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "No worker consumes default, gpu" in result.stderr


def test_gpu_tasks_acknowledge_late_and_others_do_not():
    from celery import Celery

    from config.celery import GpuTaskAnnotations

    app = Celery("annotations-check", set_as_current=False)
    app.conf.task_annotations = (GpuTaskAnnotations(),)

    @app.task(name="moderation.tasks.gpu.example")
    def gpu_task():
        return None

    @app.task(name="moderation.tasks.system.example")
    def light_task():
        return None

    assert gpu_task.acks_late is True
    assert gpu_task.reject_on_worker_lost is True
    assert light_task.acks_late is False
