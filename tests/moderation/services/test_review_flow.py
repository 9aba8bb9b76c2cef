"""Queue settings, routing rules, undo and relabel, and the export of labels into a sample set."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from kernel.errors import ApplicationError, ConflictError
from moderation.models import ReviewClaim, ReviewItem, ReviewLabel, RoutingRule
from moderation.services import review_queues as queues
from moderation.services.review import (
    default_queue,
    review_answer,
    review_claim,
    review_enqueue,
    review_skip,
)
from moderation.services.review_export import review_export
from moderation.services.review_labels import review_relabel, review_undo
from moderation.services.samples import sample_set_create
from tests.moderation.production_factories import DecisionRecordFactory, ReviewQueueFactory
from tests.tenants.factories import UserFactory

pytestmark = pytest.mark.django_db


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _label(queue, reviewer, action, categories=()):
    review_claim(queue, reviewer)
    claim = ReviewClaim.objects.get(reviewer=reviewer, answered_at__isnull=True, released=False)
    return review_answer(claim, reviewer, action, list(categories), 3.5)


def test_default_queue_cannot_be_deleted(tenant):
    with pytest.raises(ConflictError, match="is the default queue"):
        queues.review_queue_delete(queue=default_queue(tenant))


def test_queue_settings_are_checked(tenant):
    queue = queues.review_queue_create(tenant=tenant, name="Nudity", slug="nudity")
    with pytest.raises(ApplicationError, match="between 0 and 1"):
        queues.review_queue_update(queue=queue, overlap_share=1.5)
    with pytest.raises(ConflictError, match="already exists"):
        queues.review_queue_create(tenant=tenant, name="Again", slug="nudity")
    queues.review_queue_update(queue=queue, overlap_share=0.2, overlap_k=3)
    queue.refresh_from_db()
    assert (queue.overlap_share, queue.overlap_k) == (0.2, 3)


def test_routing_rules_are_appended_and_moved_in_order(tenant):
    queue = queues.review_queue_create(tenant=tenant, name="Nudity", slug="nudity")
    first = queues.routing_rule_add(tenant=tenant, queue=queue, action="block")
    second = queues.routing_rule_add(tenant=tenant, queue=queue, channel="beta")
    third = queues.routing_rule_add(tenant=tenant, queue=queue, reason="audit")
    queues.routing_rule_move(rule=third, offset=-2)
    order = list(RoutingRule.objects.order_by("position").values_list("pk", flat=True))
    assert order == [third.pk, first.pk, second.pk]


def test_a_score_band_needs_a_category_and_a_non_empty_range(tenant):
    queue = default_queue(tenant)
    with pytest.raises(ApplicationError, match="needs a category"):
        queues.routing_rule_add(tenant=tenant, queue=queue, score_min=0.5)
    with pytest.raises(ApplicationError, match="swap its ends"):
        queues.routing_rule_add(
            tenant=tenant, queue=queue, category="sexual", score_min=0.9, score_max=0.1
        )


def test_undo_while_the_lease_holds_gives_the_item_back(v1, tenant):
    review_enqueue([DecisionRecordFactory(version=v1)])
    queue, alice = default_queue(tenant), UserFactory()
    label = _label(queue, alice, "block")
    claim = review_undo(label=label, reviewer=alice)
    assert claim.answered_at is None
    item = ReviewItem.objects.get()
    assert (item.status, item.labels_done) == (ReviewItem.Status.OPEN, 0)
    assert not ReviewLabel.objects.exists()
    assert review_answer(claim, alice, "allow", [], 1.0).action == "allow"


def test_after_the_lease_only_relabel_changes_the_answer(v1, tenant):
    review_enqueue([DecisionRecordFactory(version=v1)])
    queue, alice, bob = default_queue(tenant), UserFactory(), UserFactory()
    label = _label(queue, alice, "block")
    ReviewClaim.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ConflictError, match="relabel it instead"):
        review_undo(label=label, reviewer=alice)
    with pytest.raises(ConflictError, match="another reviewer's"):
        review_relabel(label=label, reviewer=bob, action="allow", categories=[])
    review_relabel(label=label, reviewer=alice, action="flag", categories=["nudity"])
    label.refresh_from_db()
    assert (label.action, label.categories) == ("flag", ["nudity"])


def test_export_makes_samples_with_labels_and_provenance(v1, tenant, media, editor):
    queue = ReviewQueueFactory(tenant=tenant, is_default=True, overlap_share=0.0)
    single = DecisionRecordFactory(version=v1, thumbnail=_jpeg(), audited=True)
    double = DecisionRecordFactory(version=v1, prompt="a knife fight")
    review_enqueue([single, double])
    ReviewItem.objects.filter(record=double).update(labels_wanted=2)
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    _label(queue, ann, "block", ["sexual"])  # the single item comes first (oldest)
    _label(queue, ann, "review", ["violence"])
    _label(queue, bob, "block", ["violence", "weapons"])
    target = sample_set_create(tenant=tenant, actor=editor, name="Production")
    [report] = review_export(queue=queue, sample_set=target, actor=editor)
    assert (report.imported, report.errors) == (2, [])
    samples = {s.external_id: s for s in target.samples.all()}
    first, second = samples[f"decision-{single.pk}"], samples[f"decision-{double.pk}"]
    assert (first.expected_action, first.expected_categories) == ("block", ["sexual"])
    assert set(first.tags) == {"production", "single", "queue:" + queue.slug, "audit"}
    assert first.image
    assert first.image_sha256
    assert f"decision record {single.pk}" in first.notes
    assert "labelled by ann" in first.notes
    assert (second.expected_action, second.expected_categories) == (
        "block",
        ["violence", "weapons"],
    )
    assert "consensus" in second.tags
    assert "labelled by ann, bob" in second.notes
    [again] = review_export(queue=queue, sample_set=target, actor=editor)
    assert again.imported == 0
    assert "duplicate of sample" in again.errors[0]["error"]


def test_export_by_rule_keeps_only_items_where_it_fired(v1, tenant, media, editor):
    queue = default_queue(tenant)
    fired = [{"rule_id": "gore", "action": "block", "score": 1, "threshold": 1, "fired": True}]
    hit = DecisionRecordFactory(version=v1, rules=fired)
    review_enqueue([hit, DecisionRecordFactory(version=v1)])
    alice = UserFactory()
    _label(queue, alice, "block")
    _label(queue, alice, "allow")
    target = sample_set_create(tenant=tenant, actor=editor, name="Gore")
    [report] = review_export(queue=queue, sample_set=target, actor=editor, rule_id="gore")
    assert report.imported == 1
    assert target.samples.get().external_id == f"decision-{hit.pk}"
    with pytest.raises(ApplicationError, match="where rule nothing fired"):
        review_export(queue=queue, sample_set=target, actor=editor, rule_id="nothing")


def test_export_into_another_tenants_set_is_refused(v1, tenant, other_tenant, outsider):
    theirs = sample_set_create(tenant=other_tenant, actor=outsider, name="Theirs")
    with pytest.raises(ApplicationError, match="another tenant"):
        review_export(queue=default_queue(tenant), sample_set=theirs, actor=outsider)


def test_a_skipped_item_goes_to_others_and_back_to_the_skipper_after_its_lease(v1, tenant):
    review_enqueue([DecisionRecordFactory(version=v1), DecisionRecordFactory(version=v1)])
    queue, alice = default_queue(tenant), UserFactory()
    first = review_claim(queue, alice)
    review_skip(ReviewClaim.objects.get(reviewer=alice))
    second = review_claim(queue, alice)
    assert second != first
    review_skip(ReviewClaim.objects.get(reviewer=alice, item=second))
    assert review_claim(queue, alice) is None
    assert review_claim(queue, UserFactory()) == first
    ReviewClaim.objects.filter(reviewer=alice).update(lease_expires_at=timezone.now())
    assert review_claim(queue, alice) == second
