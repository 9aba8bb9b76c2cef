"""API: the audit log, per tenant and per policy, read-only, filtered by actor and date."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy

from policy_admin.models import AuditEvent
from policy_admin.services import policies
from tests.policy_admin.factories import PolicyFactory

pytestmark = pytest.mark.django_db

AUDIT = reverse_lazy("audit-event-list", kwargs={"tenant": "acme"})
POLICY_AUDIT = reverse_lazy(
    "policy-audit-event-list", kwargs={"tenant": "acme", "policy": "default"}
)


def event_url(pk, tenant="acme"):
    return reverse("audit-event-detail", kwargs={"tenant": tenant, "pk": pk})


@pytest.fixture
def history(tenant, other_tenant, editor, admin, outsider):
    default = policies.policy_create(tenant=tenant, actor=editor, name="Default", slug="default")
    policies.policy_create(tenant=tenant, actor=admin, name="Kids", slug="kids")
    policies.policy_update(policy=default, actor=admin, revision=1, name="Default v2")
    policies.policy_create(tenant=other_tenant, actor=outsider, name="Theirs", slug="default")
    return default


def test_anonymous_gets_401(api_client, history):
    assert api_client.get(AUDIT).status_code == 401
    assert api_client.get(POLICY_AUDIT).status_code == 401


def test_outsider_gets_404(api_client, history, outsider):
    api_client.force_authenticate(outsider)
    assert api_client.get(AUDIT).status_code == 404
    assert api_client.get(POLICY_AUDIT).status_code == 404


def test_tenant_log_holds_only_the_tenants_events(api_client, history, viewer):
    api_client.force_authenticate(viewer)
    data = api_client.get(AUDIT).json()
    assert data["count"] == 3
    assert {e["actor"] for e in data["results"]} == {"acme-editor", "acme-admin"}
    theirs = AuditEvent.objects.get(tenant__slug="globex")
    assert api_client.get(event_url(theirs.pk)).status_code == 404


def test_policy_log_and_filters(api_client, history, viewer):
    api_client.force_authenticate(viewer)
    assert api_client.get(POLICY_AUDIT).json()["count"] == 2
    by_admin = api_client.get(POLICY_AUDIT, {"actor": "acme-admin"}).json()["results"]
    assert [e["summary"] for e in by_admin] == ["policy Default v2: name Default → Default v2"]
    assert api_client.get(AUDIT, {"policy": "kids"}).json()["count"] == 1
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert api_client.get(AUDIT, {"since": tomorrow}).json()["count"] == 0
    assert api_client.get(AUDIT, {"until": tomorrow}).json()["count"] == 3


def test_blank_filters_filter_nothing(api_client, history, viewer):
    api_client.force_authenticate(viewer)
    response = api_client.get(AUDIT, {"actor": "", "policy": ""})
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_bad_filters_are_400_naming_the_field(api_client, history, viewer):
    api_client.force_authenticate(viewer)
    response = api_client.get(AUDIT, {"since": "yesterday"})
    assert response.status_code == 400
    assert "since" in response.json()["extra"]["fields"]
    response = api_client.get(AUDIT, {"policy": "nope"})
    assert "policy" in response.json()["extra"]["fields"]


def test_audit_log_is_read_only(api_client, history, admin):
    api_client.force_authenticate(admin)
    event = AuditEvent.objects.filter(tenant=history.tenant).first()
    assert api_client.post(AUDIT, {"summary": "x"}).status_code == 405
    assert api_client.delete(event_url(event.pk)).status_code == 405


def test_audit_list_query_count_does_not_grow(api_client, tenant, editor):
    api_client.force_authenticate(editor)
    PolicyFactory(tenant=tenant)
    policies.policy_create(tenant=tenant, actor=editor, name="One", slug="one")
    with CaptureQueriesContext(connection) as few:
        api_client.get(AUDIT)
    for n in range(5):
        policies.policy_create(tenant=tenant, actor=editor, name=f"P{n}", slug=f"p{n}")
    with CaptureQueriesContext(connection) as many:
        assert api_client.get(AUDIT).json()["count"] == 6
    assert len(many) == len(few)
