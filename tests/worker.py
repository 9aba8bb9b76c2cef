"""Start and stop a real Celery worker process for integration tests."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db.get('PORT') or 5432}/{db['NAME']}"


def purge_broker() -> None:
    """Drop messages a previous, interrupted run may have left on the queues."""
    from config.celery import app

    with app.connection_for_write() as conn:
        for queue in app.conf.task_queues:
            with contextlib.suppress(Exception):
                queue.bind(conn.default_channel).purge()


@contextlib.contextmanager
def running_worker(
    *, log_path: Path, queues: str = "default,gpu", concurrency: int = 1, env: dict | None = None
):
    """Yield the Popen of a worker that answered a ping on every queue; stop it afterwards."""
    from celery.exceptions import TimeoutError as CeleryTimeout

    from moderation.tasks.system import ping

    connection.close()  # the worker opens its own; ours must not be shared across fork
    purge_broker()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    log = open(log_path, "w")  # noqa: SIM115  closed below, after the process ends
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-l",
            "info",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so a test can kill it whole
    )
    try:
        deadline = time.monotonic() + 60
        for queue in queues.split(","):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"worker exited early:\n{log_path.read_text()}")
                try:
                    ping.apply_async(args=[queue], queue=queue).get(timeout=5)
                    break
                except CeleryTimeout:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"worker never answered:\n{log_path.read_text()}"
                        ) from None
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
