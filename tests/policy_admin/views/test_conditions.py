"""Conditional rule pages: the editor section, the form, its errors, roles and tenants."""

import html

import pytest
from django.urls import reverse

from policy_admin.models import ConditionalRule
from tests.policy_admin.factories import (
    ConditionalRuleFactory,
    FloorCategoryFactory,
    KeywordRuleSetFactory,
    PolicyFactory,
)

pytestmark = pytest.mark.django_db


def url(name, policy, **kwargs):
    return reverse(name, kwargs={"tenant": policy.tenant.slug, "slug": policy.slug, **kwargs})


def text(response) -> str:
    return html.unescape(response.content.decode())


def form(**extra):
    data = {"name": "Minor signal", "when": "category", "category": "sexual/minors",
            "at_least": "0.3", "image_thresholds": "nudity 0.2 0.3\nsexual 0.1 0.2",
            "enabled": "on", "revision": 1}  # fmt: skip
    return {**data, **extra}


def test_editor_creates_a_condition_and_the_editor_lists_it(client, policy, editor):
    client.force_login(editor)
    response = client.post(url("condition-create", policy), form())
    assert response.status_code == 302
    condition = ConditionalRule.objects.get()
    assert condition.image_thresholds == [
        {"category": "nudity", "review_at": 0.2, "block_at": 0.3},
        {"category": "sexual", "review_at": 0.1, "block_at": 0.2},
    ]
    page = text(client.get(url("policy-editor", policy)))
    assert "prompt sexual/minors score ≥ 0.3" in page
    assert "nudity review 0.2 · block 0.3" in page


def test_a_keyword_condition_offers_only_this_policys_sets(client, tenant, policy, editor):
    mine = KeywordRuleSetFactory(policy=policy, name="Minors")
    theirs = KeywordRuleSetFactory(policy=PolicyFactory(tenant=tenant, slug="b"), name="Other")
    client.force_login(editor)
    page = text(client.get(url("condition-create", policy)))
    assert "Minors" in page
    assert "Other" not in page
    refused = client.post(url("condition-create", policy),
                          form(when="keyword_set", keyword_set=theirs.pk))  # fmt: skip
    assert refused.status_code == 400
    created = client.post(url("condition-create", policy),
                          form(when="keyword_set", keyword_set=mine.pk))  # fmt: skip
    assert created.status_code == 302
    assert ConditionalRule.objects.get().keyword_set == mine


def test_bad_lines_and_floor_refusals_show_next_to_the_thresholds(client, policy, editor):
    FloorCategoryFactory(category="nudity", applies_to="both", review_at=0.1, block_at=0.4)
    client.force_login(editor)
    bad = client.post(url("condition-create", policy), form(image_thresholds="nudity 0.2"))
    assert bad.status_code == 400
    assert "Line 1 (“nudity 0.2”): write a category, a review score" in text(bad)
    loose = client.post(url("condition-create", policy), form())
    assert loose.status_code == 400
    assert "review at 0.2 is looser than the platform floor's 0.1" in text(loose)
    assert not ConditionalRule.objects.exists()


def test_edit_keeps_the_lines_and_delete_asks_first(client, policy, editor):
    condition = ConditionalRuleFactory(policy=policy, name="Minor signal")
    client.force_login(editor)
    page = text(client.get(url("condition", policy, pk=condition.pk)))
    assert "nudity 0.2 0.3" in page
    confirm = client.get(url("condition-delete", policy, pk=condition.pk))
    assert "Delete the conditional rule “Minor signal”?" in text(confirm)
    client.post(url("condition-delete", policy, pk=condition.pk), {"revision": 1})
    assert not ConditionalRule.objects.exists()


def test_another_tenants_condition_is_404(client, policy, editor, other_tenant):
    theirs = ConditionalRuleFactory(policy=PolicyFactory(tenant=other_tenant, slug="default"))
    client.force_login(editor)
    assert client.get(url("condition", policy, pk=theirs.pk)).status_code == 404
    assert client.post(url("condition-delete", policy, pk=theirs.pk)).status_code == 404


def test_viewer_sees_the_condition_without_a_form(client, policy, viewer):
    condition = ConditionalRuleFactory(policy=policy)
    client.force_login(viewer)
    page = text(client.get(url("condition", policy, pk=condition.pk)))
    assert "nudity: review at 0.2, block at 0.3" in page
    assert 'data-testid="condition-form"' not in page
    assert client.post(url("condition-create", policy), form()).status_code == 403
