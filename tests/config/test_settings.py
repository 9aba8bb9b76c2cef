"""Production settings refuse to start without secrets and pass Django's deploy checks;
the embedded defaults keep their files in the data dir."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DEPLOY_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "DJANGO_ALLOWED_HOSTS": "policies.example.com",
    "DATABASE_URL": "postgres://app@db.example.com:5432/policies",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
}


def _manage(*args, env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=DEPLOY_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in DEPLOY_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_broken_catalogue_stops_start_up_naming_the_field(tmp_path):
    broken = tmp_path / "categories.yaml"
    broken.write_text('spec: "1"\ncategories:\n  - id: sexual\n    name: 5\n')
    env = {**DEPLOY_ENV, "MODERATION_CATALOGUE": str(broken)}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "categories[0]" in result.stderr


# Publishes a task message, then listens and broadcasts on the remote-control
# mailbox as a worker and `celery inspect` do: kombu keeps that fanout
# exchange's table in its control folder.
EMBEDDED_BROKER_PROBE = """
import json
from config.celery import app
with app.connection_for_write() as connection:
    app.send_task("probe", connection=connection)
    node = app.control.mailbox.Node("probe@here", channel=connection.default_channel)
    node.listen().consume()
    app.control.broadcast("ping", connection=connection)
print(json.dumps(app.conf.broker_transport_options))
"""


def test_the_embedded_broker_writes_only_under_the_data_dir(tmp_path):
    data_dir, cwd = tmp_path / "data", tmp_path / "cwd"
    cwd.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env = {**base, "MODERATION_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", EMBEDDED_BROKER_PROBE],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.splitlines()[-1])
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert Path(options[key]).is_relative_to(data_dir), key
    assert list((data_dir / "broker" / "control").glob("*.exchange"))
    assert list((data_dir / "broker" / "queue").iterdir())
    assert not list(cwd.iterdir())
