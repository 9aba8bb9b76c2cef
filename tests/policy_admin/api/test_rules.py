"""API: the four rule kinds under a policy, for every role; cross-policy ids; stale saves."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from policy_admin.models import CategoryThreshold
from tests.policy_admin.factories import (
    CategoryThresholdFactory,
    ClipConceptFactory,
    EmbeddingRuleSetFactory,
    KeywordRuleSetFactory,
    PolicyFactory,
)

pytestmark = pytest.mark.django_db

BASENAMES = {
    "thresholds": "policy-threshold",
    "keyword-sets": "policy-keyword-set",
    "embedding-sets": "policy-embedding-set",
    "concepts": "policy-concept",
}


def rules_url(kind, pk=None):
    """The default policy's list of one rule kind, or one rule of it."""
    kwargs = {"tenant": "acme", "policy": "default"}
    if pk is None:
        return reverse(f"{BASENAMES[kind]}-list", kwargs=kwargs)
    return reverse(f"{BASENAMES[kind]}-detail", kwargs={**kwargs, "pk": pk})


KINDS = {
    "thresholds": (
        CategoryThresholdFactory,
        {"category": "gore", "review_at": 0.4, "block_at": 0.7},
        {"block_at": 0.6},
    ),
    "keyword-sets": (
        KeywordRuleSetFactory,
        {"name": "Slurs", "terms": ["foo", "bar", "foo"]},
        {"action": "review"},
    ),
    "embedding-sets": (
        EmbeddingRuleSetFactory,
        {"name": "Violence", "examples": ["a violent fight"]},
        {"threshold": 0.7},
    ),
    "concepts": (
        ClipConceptFactory,
        {"name": "Logos", "text_hints": ["a logo"]},
        {"threshold": 0.9},
    ),
}


@pytest.mark.parametrize("kind", KINDS)
def test_anonymous_gets_401(api_client, policy, kind):
    factory, _, _ = KINDS[kind]
    rule = factory(policy=policy)
    assert api_client.get(rules_url(kind)).status_code == 401
    assert api_client.get(rules_url(kind, rule.pk)).status_code == 401


@pytest.mark.parametrize("kind", KINDS)
def test_outsider_gets_404_on_reads_and_writes(api_client, policy, outsider, kind):
    factory, body, change = KINDS[kind]
    rule = factory(policy=policy)
    api_client.force_authenticate(outsider)
    assert api_client.get(rules_url(kind)).status_code == 404
    assert api_client.post(rules_url(kind), {**body, "revision": 1}).status_code == 404
    url = rules_url(kind, rule.pk)
    assert api_client.patch(url, {**change, "revision": 1}).status_code == 404
    assert api_client.delete(url, HTTP_IF_MATCH='"1"').status_code == 404
    assert type(rule).objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("kind", KINDS)
def test_rule_of_another_policy_or_tenant_is_404(api_client, policy, editor, other_tenant, kind):
    factory, _, change = KINDS[kind]
    same_tenant = factory(policy=PolicyFactory(tenant=policy.tenant, slug="other"))
    other = factory(policy=PolicyFactory(tenant=other_tenant, slug="default"))
    api_client.force_authenticate(editor)
    for rule in (same_tenant, other):
        url = rules_url(kind, rule.pk)
        assert api_client.get(url).status_code == 404
        assert api_client.patch(url, {**change, "revision": 1}, format="json").status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_viewer_reads_but_gets_403_on_writes(api_client, policy, viewer, kind):
    factory, body, change = KINDS[kind]
    rule = factory(policy=policy)
    api_client.force_authenticate(viewer)
    assert api_client.get(rules_url(kind)).json()["count"] == 1
    url = rules_url(kind, rule.pk)
    for response in (
        api_client.post(rules_url(kind), {**body, "revision": 1}, format="json"),
        api_client.patch(url, {**change, "revision": 1}, format="json"),
        api_client.delete(url, HTTP_IF_MATCH='"1"'),
    ):
        assert response.status_code == 403
        assert "Your role is viewer" in response.json()["message"]


@pytest.mark.parametrize("kind", KINDS)
def test_editor_creates_updates_and_deletes_with_revisions(api_client, policy, editor, kind):
    _, body, change = KINDS[kind]
    api_client.force_authenticate(editor)
    created = api_client.post(rules_url(kind), {**body, "revision": 1}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["revision"] == 2
    url = rules_url(kind, created.json()["id"])
    updated = api_client.patch(url, change, format="json", HTTP_IF_MATCH='"2"')
    assert updated.status_code == 200, updated.json()
    assert updated.json()["revision"] == 3
    for key, value in change.items():
        assert updated.json()[key] == value
    assert api_client.delete(url, {"revision": 3}, format="json").status_code == 204
    assert api_client.get(url).status_code == 404


def test_keyword_set_create_reports_its_terms(api_client, policy, editor):
    api_client.force_authenticate(editor)
    body = {"name": "Slurs", "terms": ["foo", "", "Foo", "bar"], "revision": 1}
    data = api_client.post(rules_url("keyword-sets"), body, format="json").json()
    assert data["term_count"] == 2
    report = data["terms_report"]
    assert (report["added"], report["duplicates"], report["refused"]) == (2, 1, 1)
    assert report["problems"] == [{"line": 2, "term": "", "reason": "empty term"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "no-such", "review_at": 0.1, "block_at": 0.2}, "category"),
        ({"category": "gore", "review_at": 1.5, "block_at": 0.2}, "review_at"),
        ({"category": "gore", "review_at": 0.1}, "block_at"),
    ],
)
def test_threshold_validation_is_400_naming_the_field(api_client, policy, editor, body, field):
    api_client.force_authenticate(editor)
    response = api_client.post(rules_url("thresholds"), {**body, "revision": 1}, format="json")
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]


def test_review_above_block_is_400_and_nothing_saved(api_client, policy, editor):
    api_client.force_authenticate(editor)
    body = {"category": "gore", "review_at": 0.9, "block_at": 0.2, "revision": 1}
    response = api_client.post(rules_url("thresholds"), body, format="json")
    assert response.status_code == 400
    assert "Review must not be above block" in str(response.json())
    policy.refresh_from_db()
    assert policy.revision == 1
    assert not CategoryThreshold.objects.filter(policy=policy).exists()


def test_two_clients_update_the_same_rule_one_gets_409(policy, editor, admin):
    rule = CategoryThresholdFactory(policy=policy, block_at=0.8)
    first, second = APIClient(), APIClient()
    first.force_authenticate(editor)
    second.force_authenticate(admin)
    url = rules_url("thresholds", rule.pk)
    assert first.patch(url, {"block_at": 0.7, "revision": 1}, format="json").status_code == 200
    lost = second.patch(url, {"block_at": 0.9, "revision": 1}, format="json")
    assert lost.status_code == 409
    body = lost.json()
    assert body["extra"]["current_revision"] == 2
    assert "acme-editor" in body["message"]
    assert "block at 0.8 → 0.7" in body["message"]
    rule.refresh_from_db()
    assert rule.block_at == 0.7


@pytest.mark.parametrize("kind", KINDS)
def test_rule_list_query_count_does_not_grow(api_client, policy, editor, kind):
    factory = KINDS[kind][0]
    api_client.force_authenticate(editor)
    factory(policy=policy)
    with CaptureQueriesContext(connection) as few:
        assert api_client.get(rules_url(kind)).status_code == 200
    for n in range(4):
        factory(
            policy=policy,
            **(
                {"category": f"{['hate', 'drugs', 'sexual', 'weapons'][n]}"}
                if kind == "thresholds"
                else {}
            ),
        )
    with CaptureQueriesContext(connection) as many:
        assert api_client.get(rules_url(kind)).json()["count"] == 5
    assert len(many) == len(few)
