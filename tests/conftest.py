"""Shared fixtures: tenants, people in each role, a policy and its v1, API clients, a worker."""

import pytest
from rest_framework.test import APIClient

from tenants.roles import Role
from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory
from tests.tenants.factories import MembershipFactory, TenantFactory, UserFactory


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    where = db.get("HOST") or db.get("NAME")
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} at {where}",
        f"celery broker: {settings.CELERY_BROKER_URL}",
    ]


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Acme Images", slug="acme")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Globex Kids", slug="globex")


def _member(tenant, role, username):
    return MembershipFactory(tenant=tenant, role=role, user=UserFactory(username=username)).user


@pytest.fixture
def admin(tenant):
    return _member(tenant, Role.ADMIN, "acme-admin")


@pytest.fixture
def editor(tenant):
    return _member(tenant, Role.EDITOR, "acme-editor")


@pytest.fixture
def viewer(tenant):
    return _member(tenant, Role.VIEWER, "acme-viewer")


@pytest.fixture
def reviewer(tenant):
    return _member(tenant, Role.REVIEWER, "acme-reviewer")


@pytest.fixture
def outsider(other_tenant):
    """An admin of the other tenant: every one of the first tenant's objects is a 404 to them."""
    return _member(other_tenant, Role.ADMIN, "globex-admin")


@pytest.fixture
def policy(tenant):
    """The first tenant's policy "Default" (slug `default`), with no rules of its own yet."""
    return PolicyFactory(tenant=tenant, name="Default", slug="default")


@pytest.fixture
def keyword_set(policy):
    """The policy's "Gore" keyword set: a rule of its own, so that its draft can be published."""
    return KeywordRuleSetFactory(policy=policy, name="Gore", terms="gore\nbeheading", term_count=2)


@pytest.fixture
def v1(policy, keyword_set, editor, fleet_isolated):
    """The policy published as v1 by the editor, and promoted to production."""
    from policy_admin.services.publishing import channel_promote, policy_publish

    version = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    channel_promote(policy=policy, actor=editor, channel="production", number=version.number)
    return version


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded files (example images, samples) go to this test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real `celery worker` process on the test broker, consuming both queues.

    It reads the test database (the one pytest-django created), so tasks see
    rows the test committed; tests that use it need committed data, hence
    transactional_db.
    """
    from tests.worker import running_worker

    with running_worker(log_path=tmp_path / "worker.log") as worker:
        yield worker


@pytest.fixture
def fleet_isolated(settings, tmp_path):
    """A private signing-key folder, and empty fleet caches before and after the test.

    Rows are flushed between tests, so ids come back: cached tokens and channel
    pointers of an earlier test must be forgotten.
    """
    from django.core.cache import cache

    from policy_admin.fleet.memory import forget_all

    settings.MODERATION_SIGNING_KEY_DIR = tmp_path / "signing-keys"
    settings.MODERATION_SIGNING_KEY_PEM = ""
    cache.clear()
    forget_all()
    yield settings.MODERATION_SIGNING_KEY_DIR
    cache.clear()
    forget_all()
