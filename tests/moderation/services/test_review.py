"""Review services: routing, overlap, claims under lease (a real race), answers and sweep."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from kernel.errors import ConflictError
from moderation.models import ReviewClaim, ReviewItem
from moderation.services.review import (
    review_answer,
    review_claim,
    review_enqueue,
    review_leases_sweep,
    review_skip,
)
from tests.moderation.production_factories import (
    DecisionRecordFactory,
    ReviewQueueFactory,
    RoutingRuleFactory,
)
from tests.tenants.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_first_matching_rule_wins_and_the_rest_go_to_the_default_queue(v1, tenant):
    nudity = ReviewQueueFactory(tenant=tenant)
    audit = ReviewQueueFactory(tenant=tenant)
    RoutingRuleFactory(queue=nudity, position=1, category="sexual", score_min=0.5, score_max=0.9)
    RoutingRuleFactory(queue=audit, position=2, reason="audit")
    both = DecisionRecordFactory(version=v1, scores={"sexual": 0.7}, reasons=["audit"])
    audited = DecisionRecordFactory(version=v1, scores={"sexual": 0.95}, reasons=["audit"])
    other = DecisionRecordFactory(version=v1, scores={"sexual": 0.1})
    review_enqueue([both, audited, other])
    queue_of = {i.record_id: i.queue for i in ReviewItem.objects.select_related("queue")}
    assert queue_of[both.pk] == nudity
    assert queue_of[audited.pk] == audit
    assert queue_of[other.pk].is_default
    assert queue_of[other.pk].slug == "default"


def test_overlap_share_sets_labels_wanted_on_about_that_share(v1, tenant):
    ReviewQueueFactory(tenant=tenant, is_default=True, overlap_share=0.5, overlap_k=3)
    review_enqueue([DecisionRecordFactory(version=v1) for _ in range(60)])
    wanted = list(ReviewItem.objects.values_list("labels_wanted", flat=True))
    assert set(wanted) == {1, 3}
    assert 15 <= wanted.count(3) <= 45


def test_expired_lease_refuses_the_late_answer_and_sweep_returns_the_item(v1, tenant):
    review_enqueue([DecisionRecordFactory(version=v1)])
    queue = ReviewItem.objects.get().queue
    alice, bob = UserFactory(), UserFactory()
    item = review_claim(queue, alice)
    assert review_claim(queue, bob) is None
    claim = ReviewClaim.objects.get(reviewer=alice)
    ReviewClaim.objects.filter(pk=claim.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    assert review_leases_sweep() == 1
    claim.refresh_from_db()
    with pytest.raises(ConflictError, match="lease on this item expired"):
        review_answer(claim, alice, "block", [], 3.0)
    assert review_claim(queue, bob) == item


def test_labels_done_marks_the_item_done_at_labels_wanted(v1, tenant):
    ReviewQueueFactory(tenant=tenant, is_default=True, overlap_share=1.0, overlap_k=2)
    review_enqueue([DecisionRecordFactory(version=v1)])
    queue = ReviewItem.objects.get().queue
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    review_claim(queue, alice)
    review_claim(queue, bob)
    assert review_claim(queue, carol) is None
    for user in (alice, bob):
        review_answer(ReviewClaim.objects.get(reviewer=user), user, "block", ["gore"], 2.0)
    item = ReviewItem.objects.get()
    assert (item.labels_done, item.status) == (2, ReviewItem.Status.DONE)
    assert review_claim(queue, alice) is None


def test_skip_gives_the_item_back(v1, tenant):
    review_enqueue([DecisionRecordFactory(version=v1)])
    queue = ReviewItem.objects.get().queue
    alice, bob = UserFactory(), UserFactory()
    review_claim(queue, alice)
    review_skip(ReviewClaim.objects.get(reviewer=alice))
    assert review_claim(queue, bob) is not None


def test_not_an_action_is_refused(v1, tenant):
    review_enqueue([DecisionRecordFactory(version=v1)])
    alice = UserFactory()
    review_claim(ReviewItem.objects.get().queue, alice)
    with pytest.raises(Exception, match="not an action"):
        review_answer(ReviewClaim.objects.get(), alice, "delete", [], 1.0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reviewers_never_share_a_single_label_item(v1, tenant):
    review_enqueue([DecisionRecordFactory(version=v1) for _ in range(2)])
    queue = ReviewItem.objects.first().queue
    users = [UserFactory() for _ in range(3)]
    got, barrier = {}, threading.Barrier(3)

    def claim(user):
        barrier.wait()
        try:
            got[user.pk] = review_claim(queue, user)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    items = [i.pk for i in got.values() if i is not None]
    assert len(items) == 2
    assert len(set(items)) == 2
    assert ReviewClaim.objects.count() == 2
