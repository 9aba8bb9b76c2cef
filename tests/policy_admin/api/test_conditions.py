"""API: conditional rules of a policy's draft: CRUD, other tenants' ids, the floor, roles."""

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
LOWER = [{"category": "nudity", "review_at": 0.2, "block_at": 0.3}]


def url(pk=None, policy="default"):
    kwargs = {"tenant": "acme", "policy": policy}
    if pk is None:
        return reverse("policy-condition-list", kwargs=kwargs)
    return reverse("policy-condition-detail", kwargs={**kwargs, "pk": pk})


def test_editor_creates_updates_and_deletes_a_condition(api_client, policy, editor):
    minors = KeywordRuleSetFactory(policy=policy, name="Minors")
    api_client.force_authenticate(editor)
    body = {"name": "Minor signal", "when": "keyword_set", "keyword_set": minors.pk,
            "image_thresholds": LOWER, "revision": 1}  # fmt: skip
    created = api_client.post(url(), body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["keyword_set"], data["image_thresholds"], data["revision"]) == (
        minors.pk,
        LOWER,
        2,
    )
    changed = api_client.patch(
        url(data["id"]),
        {"when": "category", "category": "nudity", "at_least": 0.7, "revision": 2},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["keyword_set"], changed.json()["at_least"]) == (None, 0.7)
    listed = api_client.get(url()).json()
    assert [c["name"] for c in listed["results"]] == ["Minor signal"]
    assert api_client.delete(url(data["id"]), {"revision": 3}, format="json").status_code == 204
    assert not ConditionalRule.objects.exists()


def test_another_tenants_condition_is_404(api_client, policy, editor, other_tenant, outsider):
    theirs = ConditionalRuleFactory(policy=PolicyFactory(tenant=other_tenant, slug="default"))
    mine = ConditionalRuleFactory(policy=policy)
    api_client.force_authenticate(editor)
    assert api_client.get(url(theirs.pk)).status_code == 404
    assert api_client.patch(url(theirs.pk), {"revision": 1}, format="json").status_code == 404
    api_client.force_authenticate(outsider)
    assert api_client.get(url(mine.pk)).status_code == 404
    assert api_client.delete(url(mine.pk), HTTP_IF_MATCH='"1"').status_code == 404
    assert ConditionalRule.objects.filter(pk=mine.pk).exists()


def test_a_keyword_set_of_another_tenant_or_policy_is_400(api_client, tenant, policy, editor,
                                                          other_tenant):  # fmt: skip
    api_client.force_authenticate(editor)
    for owner in (PolicyFactory(tenant=other_tenant), PolicyFactory(tenant=tenant, slug="b")):
        theirs = KeywordRuleSetFactory(policy=owner)
        body = {"name": "X", "when": "keyword_set", "keyword_set": theirs.pk,
                "image_thresholds": LOWER, "revision": 1}  # fmt: skip
        response = api_client.post(url(), body, format="json")
        assert response.status_code == 400
        assert "keyword_set" in str(response.json())
    assert not ConditionalRule.objects.exists()


def test_a_threshold_looser_than_the_floor_is_400_naming_it(api_client, policy, editor):
    FloorCategoryFactory(category="nudity", applies_to="both", review_at=0.1, block_at=0.4)
    api_client.force_authenticate(editor)
    body = {"name": "X", "when": "category", "category": "nudity", "at_least": 0.5,
            "image_thresholds": LOWER, "revision": 1}  # fmt: skip
    response = api_client.post(url(), body, format="json")
    assert response.status_code == 400
    assert "review at 0.2 is looser than the platform floor's 0.1" in response.json()["message"]


def test_viewer_reads_but_cannot_write(api_client, policy, viewer):
    condition = ConditionalRuleFactory(policy=policy)
    api_client.force_authenticate(viewer)
    assert api_client.get(url(condition.pk)).status_code == 200
    assert api_client.patch(url(condition.pk), {"revision": 1}, format="json").status_code == 403


def test_condition_list_query_count_does_not_grow(api_client, policy, editor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api_client.force_authenticate(editor)
    ConditionalRuleFactory(policy=policy)
    with CaptureQueriesContext(connection) as few:
        assert api_client.get(url()).status_code == 200
    for _ in range(4):
        keyword_set = KeywordRuleSetFactory(policy=policy)
        ConditionalRuleFactory(
            policy=policy, when="keyword_set", keyword_set=keyword_set, category="",
            at_least=None,
        )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        assert api_client.get(url()).json()["count"] == 5
    assert len(many) == len(few)


def test_deleting_a_keyword_set_a_condition_reads_is_409_naming_it(api_client, policy, editor):
    minors = KeywordRuleSetFactory(policy=policy, name="Minors")
    ConditionalRuleFactory(
        policy=policy, name="Minor signal", when="keyword_set", keyword_set=minors, category="",
        at_least=None,
    )  # fmt: skip
    api_client.force_authenticate(editor)
    detail = reverse(
        "policy-keyword-set-detail", kwargs={"tenant": "acme", "policy": "default", "pk": minors.pk}
    )
    response = api_client.delete(detail, {"revision": 1}, format="json")
    assert response.status_code == 409
    assert "“Minor signal”; change or delete those first" in response.json()["message"]
