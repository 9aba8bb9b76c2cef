"""API: policies by slug, for anonymous, each role and outsiders; stale saves; list queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy

from policy_admin.models import AuditEvent, Policy
from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory

pytestmark = pytest.mark.django_db

POLICIES = reverse_lazy("api-policy-list", kwargs={"tenant": "acme"})


def policy_url(slug):
    return reverse("api-policy-detail", kwargs={"tenant": "acme", "policy": slug})


def test_anonymous_gets_401(api_client, policy):
    for url in [POLICIES, policy_url("default")]:
        assert api_client.get(url).status_code == 401


def test_outsider_gets_404_for_list_detail_and_writes(api_client, policy, outsider):
    api_client.force_authenticate(outsider)
    assert api_client.get(POLICIES).status_code == 404
    assert api_client.get(policy_url("default")).status_code == 404
    assert api_client.patch(policy_url("default"), {"name": "x", "revision": 1}).status_code == 404


def test_other_tenants_policy_through_own_tenant_is_404(api_client, editor, other_tenant):
    PolicyFactory(tenant=other_tenant, slug="theirs")
    api_client.force_authenticate(editor)
    assert api_client.get(policy_url("theirs")).status_code == 404
    thresholds = reverse("policy-threshold-list", kwargs={"tenant": "acme", "policy": "theirs"})
    assert api_client.get(thresholds).status_code == 404


def test_viewer_reads_but_cannot_write(api_client, policy, viewer):
    api_client.force_authenticate(viewer)
    assert api_client.get(policy_url("default")).json()["name"] == "Default"
    response = api_client.post(POLICIES, {"name": "New", "slug": "new"})
    assert response.status_code == 403
    assert "only editors and admins" in response.json()["message"]
    assert api_client.delete(policy_url("default"), HTTP_IF_MATCH='"1"').status_code == 403


def test_editor_creates_renames_and_deletes(api_client, tenant, editor):
    api_client.force_authenticate(editor)
    created = api_client.post(POLICIES, {"name": "Kids app", "slug": "kids-app"})
    assert created.status_code == 201
    assert created.json()["revision"] == 1
    renamed = api_client.patch(policy_url("kids-app"), {"name": "Kids", "revision": 1})
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["revision"]) == ("Kids", 2)
    deleted = api_client.delete(policy_url("kids-app"), HTTP_IF_MATCH='"2"')
    assert deleted.status_code == 204
    assert not Policy.objects.filter(slug="kids-app").exists()
    assert AuditEvent.objects.filter(tenant=tenant, verb="delete").count() == 1


def test_bad_slug_is_400_naming_the_field(api_client, tenant, editor):
    api_client.force_authenticate(editor)
    response = api_client.post(POLICIES, {"name": "Bad", "slug": "Not A Slug"})
    assert response.status_code == 400
    assert "slug" in response.json()["extra"]["fields"]


def test_write_without_revision_is_400_naming_revision(api_client, policy, editor):
    api_client.force_authenticate(editor)
    response = api_client.patch(policy_url("default"), {"name": "Renamed"})
    assert response.status_code == 400
    assert "revision" in response.json()["extra"]["fields"]


def test_stale_revision_is_409_naming_who_changed_what(api_client, policy, editor, admin):
    api_client.force_authenticate(admin)
    first = api_client.patch(policy_url("default"), {"name": "First", "revision": 1})
    assert first.status_code == 200
    api_client.force_authenticate(editor)
    response = api_client.patch(policy_url("default"), {"name": "Second", "revision": 1})
    assert response.status_code == 409
    body = response.json()
    assert body["extra"]["current_revision"] == 2
    assert "acme-admin" in body["message"]
    policy.refresh_from_db()
    assert policy.name == "First"


def test_policy_list_query_count_does_not_grow(api_client, tenant, editor):
    api_client.force_authenticate(editor)
    PolicyFactory(tenant=tenant)
    with CaptureQueriesContext(connection) as few:
        assert api_client.get(POLICIES).status_code == 200
    for _ in range(5):
        KeywordRuleSetFactory(policy=PolicyFactory(tenant=tenant))
    with CaptureQueriesContext(connection) as many:
        data = api_client.get(POLICIES).json()
    assert data["count"] == 6
    assert len(many) == len(few)


def test_editor_turns_the_robustness_floor_on(api_client, policy, editor):
    api_client.force_authenticate(editor)
    assert api_client.get(policy_url("default")).json()["robustness_floor"] is False
    response = api_client.patch(policy_url("default"), {"robustness_floor": True, "revision": 1})
    assert response.status_code == 200, response.json()
    assert response.json()["robustness_floor"] is True
    policy.refresh_from_db()
    assert policy.robustness_floor
    event = AuditEvent.objects.filter(verb="update").latest("id")
    assert event.summary == "policy Default: robustness floor False → True"
