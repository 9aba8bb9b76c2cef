"""The review API: queues, claim, answer, skip, labels, export; tenancy, rights, races."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from moderation.models import ReviewClaim, ReviewLabel
from moderation.services.review import default_queue, review_enqueue
from moderation.services.review_samples import review_samples_send
from moderation.services.samples import sample_set_create
from policy_admin.models import PolicyVersion
from tests.moderation.factories import SampleFactory
from tests.moderation.production_factories import DecisionRecordFactory

pytestmark = pytest.mark.django_db

RULES = [{"rule_id": "gore", "action": "block", "score": 1.0, "threshold": 1.0, "fired": True}]


@pytest.fixture
def version(policy):
    """A version row of the policy; the review API reads none of its bundle."""
    return PolicyVersion.objects.create(
        tenant=policy.tenant, policy=policy, number=1, bundle=b"{}", sha256="0" * 64, revision=1
    )


@pytest.fixture
def queued(version):
    records = [DecisionRecordFactory(version=version, rules=RULES) for _ in range(2)]
    review_enqueue(records)
    return records


def api(name, tenant="acme", **kwargs):
    return reverse(name, kwargs={"tenant": tenant, **kwargs})


def test_reviewer_claims_answers_and_sees_the_explanation_after(api_client, queued, reviewer):
    api_client.force_authenticate(reviewer)
    queues = api_client.get(api("api-review-queue-list")).json()["results"]
    assert [(q["slug"], q["backlog"]) for q in queues] == [("default", 2)]
    claim = api_client.post(api("api-review-queue-claim", slug="default")).json()
    assert "rules" not in claim["record"]
    assert "action" not in claim["record"]
    answered = api_client.post(
        api("api-review-claim-answer", pk=claim["id"]),
        {"action": "block", "categories": ["gore"], "seconds": 2.5},
        format="json",
    )
    assert answered.status_code == 201, answered.json()
    body = answered.json()
    assert body["label"]["action"] == "block"
    assert body["label"]["reviewer"] == "acme-reviewer"
    assert body["explanation"]["rules"][0]["rule_id"] == "gore"
    labels = api_client.get(api("api-review-label-list"), {"queue": "default"}).json()
    assert [label["seconds"] for label in labels["results"]] == [2.5]


def test_skip_then_empty_queue_is_204(api_client, queued, reviewer):
    api_client.force_authenticate(reviewer)
    for _ in queued:
        claim = api_client.post(api("api-review-queue-claim", slug="default")).json()
        skipped = api_client.post(api("api-review-claim-skip", pk=claim["id"]))
        assert skipped.status_code == 204
    assert api_client.post(api("api-review-queue-claim", slug="default")).status_code == 204


def test_late_answer_is_a_409_with_the_reason(api_client, queued, reviewer):
    api_client.force_authenticate(reviewer)
    claim = api_client.post(api("api-review-queue-claim", slug="default")).json()
    ReviewClaim.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    late = api_client.post(
        api("api-review-claim-answer", pk=claim["id"]), {"action": "allow"}, format="json"
    )
    assert late.status_code == 409
    assert "expired" in str(late.json())
    assert not ReviewLabel.objects.exists()


def test_unknown_category_names_the_field(api_client, queued, reviewer):
    api_client.force_authenticate(reviewer)
    claim = api_client.post(api("api-review-queue-claim", slug="default")).json()
    bad = api_client.post(
        api("api-review-claim-answer", pk=claim["id"]),
        {"action": "block", "categories": ["nope"]},
        format="json",
    )
    assert bad.status_code == 400
    assert "categories" in str(bad.json())


def test_viewer_cannot_claim_answer_or_export(api_client, queued, viewer, reviewer):
    api_client.force_authenticate(viewer)
    assert api_client.get(api("api-review-queue-list")).status_code == 200
    refused = api_client.post(api("api-review-queue-claim", slug="default"))
    assert refused.status_code == 403
    assert "reviewer" in str(refused.json())
    api_client.force_authenticate(reviewer)
    claim = api_client.post(api("api-review-queue-claim", slug="default")).json()
    api_client.force_authenticate(viewer)
    answer = api_client.post(api("api-review-claim-answer", pk=claim["id"]), {"action": "allow"})
    assert answer.status_code == 403
    export = api_client.post(api("api-review-queue-export", slug="default"), {"sample_set": 1})
    assert export.status_code == 403


def test_other_tenants_queue_claim_and_labels_are_404(api_client, queued, reviewer, outsider):
    api_client.force_authenticate(reviewer)
    claim = api_client.post(api("api-review-queue-claim", slug="default")).json()
    api_client.force_authenticate(outsider)
    default_queue(outsider.memberships.get().tenant)
    own = api_client.post(api("api-review-queue-claim", tenant="globex", slug="default"))
    assert own.status_code == 204
    for method, path in [
        ("get", api("api-review-queue-list")),
        ("post", api("api-review-queue-claim", slug="default")),
        ("post", api("api-review-claim-answer", pk=claim["id"])),
    ]:
        assert getattr(api_client, method)(path).status_code == 404, path
    for name in ("api-review-claim-answer", "api-review-claim-skip"):
        path = api(name, tenant="globex", pk=claim["id"])
        assert api_client.post(path, {"action": "allow"}, format="json").status_code == 404
    theirs = api_client.get(api("api-review-label-list", tenant="globex")).json()
    assert theirs["results"] == []


def test_export_creates_samples_and_another_tenants_set_is_404(
    api_client, tenant, other_tenant, queued, editor, outsider, media
):
    api_client.force_authenticate(editor)
    for _ in queued:
        claim = api_client.post(api("api-review-queue-claim", slug="default")).json()
        api_client.post(
            api("api-review-claim-answer", pk=claim["id"]), {"action": "flag"}, format="json"
        )
    target = sample_set_create(tenant=tenant, actor=editor, name="Production")
    theirs = sample_set_create(tenant=other_tenant, actor=outsider, name="Theirs")
    url = api("api-review-queue-export", slug="default")
    assert api_client.post(url, {"sample_set": theirs.pk}).status_code == 404
    done = api_client.post(url, {"sample_set": target.pk, "rule_id": "gore"}, format="json")
    assert done.status_code == 201
    assert done.json()[0]["imported"] == 2
    assert set(target.samples.values_list("expected_action", flat=True)) == {"flag"}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claims_get_one_item_each(queued, reviewer, editor):
    got, barrier = {}, threading.Barrier(2)

    def claim(user):
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            got[user.username] = client.post(api("api-review-queue-claim", slug="default")).json()
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in (reviewer, editor)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    items = [c["item"] for c in got.values()]
    assert len(items) == 2
    assert len(set(items)) == 2
    assert ReviewClaim.objects.count() == 2


def test_list_endpoints_do_not_query_per_row(
    api_client, version, reviewer, django_assert_max_num_queries
):
    records = [DecisionRecordFactory(version=version) for _ in range(6)]
    review_enqueue(records)
    queue = default_queue(reviewer.memberships.get().tenant)
    for record in records:
        ReviewLabel.objects.create(
            tenant=queue.tenant, item=record.review_items.get(), record=record,
            reviewer=reviewer, action="allow",
        )  # fmt: skip
    api_client.force_authenticate(reviewer)
    with django_assert_max_num_queries(8):
        assert len(api_client.get(api("api-review-label-list")).json()["results"]) == 6
    with django_assert_max_num_queries(8):
        assert api_client.get(api("api-review-queue-list")).status_code == 200


def test_a_sample_item_is_claimed_with_its_sample_and_answered_without_explanation(
    api_client, tenant, reviewer
):
    sample = SampleFactory(sample_set__tenant=tenant, prompt="mascot", expected_action="allow")
    review_samples_send(queue=default_queue(tenant), sample_ids=[sample.pk])
    api_client.force_authenticate(reviewer)
    claim = api_client.post(api("api-review-queue-claim", slug="default")).json()
    assert claim["record"] is None
    assert claim["sample"] == {
        "id": sample.pk,
        "external_id": sample.external_id,
        "sample_set": sample.sample_set_id,
        "prompt": "mascot",
    }
    answer = api_client.post(
        api("api-review-claim-answer", pk=claim["id"]), {"action": "flag"}, format="json"
    )
    assert answer.status_code == 201
    assert answer.json()["explanation"] is None
    assert answer.json()["label"]["record"] is None
    sample.refresh_from_db()
    assert sample.expected_action == "flag"
