"""Policy list, creation, editor page, details and deletion, for every role and for outsiders."""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policy_admin.models import AuditEvent, Policy
from tests.policy_admin.factories import (
    CategoryThresholdFactory,
    ClipConceptFactory,
    EmbeddingRuleSetFactory,
    FloorCategoryFactory,
    KeywordRuleSetFactory,
    PolicyFactory,
)

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return html.unescape(response.content.decode())


def list_url(tenant):
    return reverse("policy-list", kwargs={"tenant": tenant.slug})


def editor_url(policy):
    return reverse("policy-editor", kwargs={"tenant": policy.tenant.slug, "slug": policy.slug})


def page_urls(policy):
    kwargs = {"tenant": policy.tenant.slug, "slug": policy.slug}
    return [
        list_url(policy.tenant),
        editor_url(policy),
        reverse("policy-delete", kwargs=kwargs),
        reverse("tenant-dashboard", kwargs={"tenant": policy.tenant.slug}),
    ]


def test_anonymous_is_sent_to_login(client, policy):
    for url in page_urls(policy):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_outsider_gets_404_for_pages_and_posts(client, policy, outsider):
    client.force_login(outsider)
    for url in page_urls(policy):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "x", "slug": "x", "revision": 1}).status_code == 404, url
    assert Policy.objects.filter(tenant=policy.tenant).count() == 1


def test_outsider_gets_404_for_another_tenants_policy_through_own_tenant(
    client, policy, other_tenant, outsider
):
    client.force_login(outsider)
    url = reverse("policy-editor", kwargs={"tenant": other_tenant.slug, "slug": policy.slug})
    assert client.get(url).status_code == 404


def test_viewer_reads_the_list_and_editor_without_edit_controls(client, policy, viewer):
    KeywordRuleSetFactory(policy=policy, name="Slurs")
    client.force_login(viewer)
    listing = body(client.get(list_url(policy.tenant)))
    assert "Default" in listing
    assert "Create policy" not in listing
    editor = client.get(editor_url(policy))
    assert editor.status_code == 200
    text = body(editor)
    assert "Slurs" in text
    assert "New keyword set" not in text
    assert "Save details" not in text
    assert 'type="range"' not in text


def test_viewer_posts_are_403(client, policy, viewer):
    client.force_login(viewer)
    kwargs = {"tenant": policy.tenant.slug, "slug": policy.slug}
    for url in [
        list_url(policy.tenant),
        editor_url(policy),
        reverse("policy-delete", kwargs=kwargs),
    ]:
        response = client.post(url, {"name": "New", "slug": "new", "revision": 1})
        assert response.status_code == 403, url
        assert "only editors and admins can change" in body(response)
    assert list(Policy.objects.values_list("name", flat=True)) == ["Default"]


def test_editor_creates_a_policy_and_lands_in_its_editor(client, tenant, editor):
    client.force_login(editor)
    response = client.post(
        list_url(tenant), {"name": "Kids app", "slug": "kids-app", "description": "Strict."}
    )
    policy = Policy.objects.get(tenant=tenant, slug="kids-app")
    assert response.url == editor_url(policy)
    page = body(client.get(response.url))
    assert "Created policy Kids app." in page
    assert "Not set (catalogue default: review 0.5 · block 0.8)" in page


def test_duplicate_slug_is_an_error_next_to_the_field(client, policy, editor):
    client.force_login(editor)
    response = client.post(list_url(policy.tenant), {"name": "Again", "slug": "default"})
    assert response.status_code == 400
    assert 'data-testid="error-slug">Acme Images already has a policy with the slug “default”' in (
        body(response)
    )
    assert 'value="Again"' in body(response)


def test_bad_slug_is_explained(client, tenant, editor):
    client.force_login(editor)
    response = client.post(list_url(tenant), {"name": "Kids", "slug": "Kids App!"})
    assert response.status_code == 400
    assert 'data-testid="error-slug"' in body(response)


def test_list_searches_and_shows_rule_counts(client, tenant, policy, viewer):
    PolicyFactory(tenant=tenant, name="Kids app", slug="kids")
    KeywordRuleSetFactory(policy=policy)
    EmbeddingRuleSetFactory(policy=policy)
    CategoryThresholdFactory(policy=policy)
    client.force_login(viewer)
    page = body(client.get(list_url(tenant), {"q": "defa"}))
    assert "Default" in page
    assert "Kids app" not in page
    assert "1 threshold · 1 keyword set" in page
    assert "1 embedding set · 0 concepts" in page


def test_list_queries_do_not_grow_with_the_number_of_policies(client, tenant, viewer):
    client.force_login(viewer)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(list_url(tenant)).status_code == 200
        return len(captured)

    PolicyFactory(tenant=tenant)
    few = queries()
    for _ in range(10):
        policy = PolicyFactory(tenant=tenant, created_by=viewer, updated_by=viewer)
        KeywordRuleSetFactory(policy=policy)
    assert queries() == few


def test_list_is_paginated(client, tenant, viewer):
    for n in range(30):
        PolicyFactory(tenant=tenant, name=f"Policy {n:02}", slug=f"p{n:02}")
    client.force_login(viewer)
    first = body(client.get(list_url(tenant)))
    assert "Page 1 of 2" in first
    assert "Policy 29" not in first
    assert "Policy 29" in body(client.get(list_url(tenant), {"page": 2}))


def test_editor_shows_each_rule_kind_and_the_floor_locked(client, policy, editor):
    FloorCategoryFactory(category="sexual/minors", review_at=0.1, block_at=0.3)
    CategoryThresholdFactory(policy=policy, category="violence", review_at=0.4, block_at=0.7)
    KeywordRuleSetFactory(policy=policy, name="Gore words")
    EmbeddingRuleSetFactory(policy=policy, name="Violent phrases")
    ClipConceptFactory(policy=policy, name="Logo")
    client.force_login(editor)
    page = body(client.get(editor_url(policy)))
    assert 'data-testid="floor-sexual/minors"' in page
    assert "review at most at 0.1, block at most at 0.3" in page
    for name in ("Gore words", "Violent phrases", "Logo"):
        assert name in page
    assert "needs at least 3 positive examples before it can be published" in page.lower()


def test_details_save_and_stale_details_keep_input(client, policy, editor, admin):
    client.force_login(editor)
    response = client.post(
        editor_url(policy), {"name": "Default v2", "description": "New", "revision": 1}
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.name, policy.revision) == ("Default v2", 2)
    stale = client.post(editor_url(policy), {"name": "Mine", "description": "Lost?", "revision": 1})
    assert stale.status_code == 409
    text = body(stale)
    assert "you had revision 1, it is now 2" in text
    assert "acme-editor updated policy “Default v2”" in text
    assert 'value="Mine"' in text


def test_details_set_the_failure_mode_and_leaving_it_out_keeps_it(client, policy, editor):
    client.force_login(editor)
    assert policy.failure_mode == "closed"
    page = body(client.get(editor_url(policy)))
    assert "Fail open: let content through when moderation cannot answer" in page

    opened = client.post(
        editor_url(policy),
        {"name": "Default", "description": "", "failure_mode": "open", "revision": 1},
    )
    kept = client.post(editor_url(policy), {"name": "Default", "description": "", "revision": 2})

    assert (opened.status_code, kept.status_code) == (302, 302)
    policy.refresh_from_db()
    assert (policy.failure_mode, policy.revision) == ("open", 3)


def test_delete_asks_then_deletes_and_keeps_the_audit(client, policy, editor):
    client.force_login(editor)
    url = reverse("policy-delete", kwargs={"tenant": "acme", "slug": policy.slug})
    confirm = body(client.get(url))
    assert "Delete the policy “Default”?" in confirm
    response = client.post(url, {"revision": policy.revision})
    assert response.url == list_url(policy.tenant)
    assert not Policy.objects.filter(pk=policy.pk).exists()
    assert AuditEvent.objects.filter(verb="delete", target_name="Default").exists()


def test_dashboard_lists_policies_above_members(client, policy, viewer):
    client.force_login(viewer)
    page = body(client.get(reverse("tenant-dashboard", kwargs={"tenant": "acme"})))
    assert page.index('data-testid="dashboard-policies"') < page.index("dashboard-members")
    assert "Default" in page


def test_editor_shows_floor_keyword_sets_as_locked_rows(client, policy, editor):
    from policy_admin.models import FloorKeywordSet

    FloorKeywordSet.objects.create(name="Minors", action="block", terms="a\nb", term_count=2)
    client.force_login(editor)
    body = client.get(editor_url(policy)).content.decode()
    assert 'data-testid="floor-keyword-set"' in body
    assert "Platform floor: inherited and locked" in body
