"""Production settings refuse to start without secrets and pass Django's deploy checks."""

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
