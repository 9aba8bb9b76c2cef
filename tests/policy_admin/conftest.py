"""Fixtures for publishing and the fleet: a private signing-key folder per test."""

import pytest


@pytest.fixture(autouse=True)
def signing_key_dir(settings, tmp_path):
    settings.MODERATION_SIGNING_KEY_DIR = tmp_path / "signing-keys"
    settings.MODERATION_SIGNING_KEY_PEM = ""
    return settings.MODERATION_SIGNING_KEY_DIR


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from policy_admin.fleet_api.memory import forget_all

    cache.clear()
    forget_all()
    yield
    cache.clear()
    forget_all()
