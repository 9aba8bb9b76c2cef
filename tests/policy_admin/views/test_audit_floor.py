"""Audit log pages (tenant and policy) and the staff-only platform floor page."""

import datetime as dt
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from policy_admin.models import AuditEvent, FloorCategory, FloorKeywordSet
from policy_admin.services import policies
from tests.policy_admin.factories import CategoryThresholdFactory, PolicyFactory
from tests.tenants.factories import UserFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def history(tenant, other_tenant, editor, admin):
    """Two policies by two people, one event moved to last month, and another tenant's event."""
    default = policies.policy_create(tenant=tenant, actor=editor, name="Default", slug="default")
    policies.policy_create(tenant=tenant, actor=admin, name="Kids", slug="kids")
    policies.policy_create(tenant=other_tenant, actor=admin, name="Secret", slug="secret")
    AuditEvent.objects.filter(target_name="Kids").update(
        created_at=timezone.now() - dt.timedelta(days=30)
    )
    return default


def test_tenant_audit_lists_only_own_events_with_before_after(client, history, viewer):
    client.force_login(viewer)
    page = text(client.get(reverse("tenant-audit", kwargs={"tenant": "acme"})))
    assert "Default" in page
    assert "Kids" in page
    assert "Secret" not in page
    assert "<details><summary>created policy Default</summary>" in page
    assert "'slug': 'default'" in page


def test_audit_filters_by_user_and_by_date(client, history, viewer):
    client.force_login(viewer)
    audit = reverse("tenant-audit", kwargs={"tenant": "acme"})
    by_user = text(client.get(audit, {"actor": "acme-admin"}))
    assert "created policy Kids" in by_user
    assert "created policy Default" not in by_user
    since = (timezone.now() - dt.timedelta(days=1)).date().isoformat()
    recent = text(client.get(audit, {"since": since}))
    assert "created policy Default" in recent
    assert "created policy Kids" not in recent
    old = (timezone.now() - dt.timedelta(days=20)).date().isoformat()
    early = text(client.get(audit, {"until": old}))
    assert "created policy Kids" in early
    assert "created policy Default" not in early


def test_reversed_dates_are_an_error_next_to_until(client, history, viewer):
    client.force_login(viewer)
    response = client.get(
        reverse("tenant-audit", kwargs={"tenant": "acme"}),
        {"since": "2030-01-02", "until": "2030-01-01"},
    )
    assert 'data-testid="error-until">“Until” (2030-01-01) is before “since”' in text(response)


def test_policy_audit_shows_only_that_policy(client, history, viewer):
    client.force_login(viewer)
    page = text(client.get(reverse("policy-audit", kwargs={"tenant": "acme", "slug": "default"})))
    assert "created policy Default" in page
    assert "created policy Kids" not in page


def test_audit_pages_are_read_only_for_everyone(client, history, admin):
    client.force_login(admin)
    for target in (
        reverse("tenant-audit", kwargs={"tenant": "acme"}),
        reverse("policy-audit", kwargs={"tenant": "acme", "slug": "default"}),
    ):
        assert client.post(target, {}).status_code in (403, 405), target


def test_audit_pages_for_anonymous_and_outsiders(client, history, outsider):
    pages = [
        reverse("tenant-audit", kwargs={"tenant": "acme"}),
        reverse("policy-audit", kwargs={"tenant": "acme", "slug": "default"}),
    ]
    for target in pages:
        assert client.get(target).status_code == 302
    client.force_login(outsider)
    for target in pages:
        assert client.get(target).status_code == 404
    own = reverse("policy-audit", kwargs={"tenant": "globex", "slug": "default"})
    assert client.get(own).status_code == 404


def test_audit_is_paginated(client, tenant, editor):
    for n in range(30):
        policies.policy_create(tenant=tenant, actor=editor, name=f"P{n}", slug=f"p{n}")
    client.force_login(editor)
    page = text(client.get(reverse("tenant-audit", kwargs={"tenant": "acme"})))
    assert "Page 1 of 2" in page


@pytest.fixture
def staff(db):
    return UserFactory(username="trust-safety", is_staff=True)


def test_floor_page_is_403_for_non_staff_and_login_for_anonymous(client, editor):
    floor = reverse("platform-floor")
    assert client.get(floor).status_code == 302
    client.force_login(editor)
    response = client.get(floor)
    assert response.status_code == 403
    assert "Only the platform's staff keep the floor" in text(response)
    assert client.post(floor, {"category": "violence"}).status_code == 403
    assert client.get(reverse("floor-keyword-set-create")).status_code == 403


def test_staff_sets_a_floor_and_sees_the_tenants_it_tightens(client, tenant, staff):
    CategoryThresholdFactory(
        policy=PolicyFactory(tenant=tenant), category="violence", review_at=0.6, block_at=0.9
    )
    client.force_login(staff)
    response = client.post(
        reverse("platform-floor"),
        {"category": "violence", "applies_to": "both", "review_at": "0.5", "block_at": "0.8"},
        follow=True,
    )
    page = text(response)
    assert "It tightens 1 tenant(s) whose drafts are looser: Acme Images." in page
    assert FloorCategory.objects.get(category="violence").block_at == 0.8
    assert "tightens 1 tenant(s): Acme Images" in page  # the platform audit event


def test_floor_review_above_block_is_an_error_next_to_review(client, staff):
    client.force_login(staff)
    response = client.post(
        reverse("platform-floor"),
        {"category": "violence", "applies_to": "both", "review_at": "0.9", "block_at": "0.8"},
    )
    assert response.status_code == 400
    assert 'data-testid="error-review_at">Review at 0.9 is above block at 0.8' in text(response)


def test_staff_creates_and_edits_a_locked_keyword_set(client, staff):
    client.force_login(staff)
    data = {"name": "CSAM terms", "action": "block", "mode": "substring", "casefold": "on"}
    response = client.post(reverse("floor-keyword-set-create"), {**data, "terms": "a\nb\na"})
    assert response.status_code == 302
    keyword_set = FloorKeywordSet.objects.get()
    assert keyword_set.term_list() == ["a", "b"]
    edit = reverse("floor-keyword-set", kwargs={"pk": keyword_set.pk})
    client.post(edit, {**data, "name": "CSAM", "terms": "a\nb\nc"})
    keyword_set.refresh_from_db()
    assert (keyword_set.name, keyword_set.term_count) == ("CSAM", 3)
    events = AuditEvent.objects.filter(tenant__isnull=True, target_type="floor keyword set")
    assert events.count() == 2
    page = text(client.get(reverse("platform-floor")))
    assert "locked keyword set CSAM: name CSAM terms → CSAM" in page


def test_floor_keyword_set_without_name_is_an_error(client, staff):
    client.force_login(staff)
    response = client.post(
        reverse("floor-keyword-set-create"), {"action": "block", "mode": "whole_word"}
    )
    assert response.status_code == 400
    assert 'data-testid="error-name">This field is required.' in text(response)
