"""Review pages: queues, routing rules, the reviewer page (claim, answer, skip, undo), export."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from moderation.models import ReviewClaim, ReviewItem, ReviewLabel, ReviewQueue, RoutingRule
from moderation.services.review import default_queue, review_enqueue
from moderation.services.samples import sample_set_create
from policy_admin.models import PolicyVersion
from tenants.roles import Role
from tests.moderation.production_factories import DecisionRecordFactory
from tests.tenants.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

RULES = [
    {
        "rule_id": "gore",
        "kind": "keywords",
        "action": "block",
        "score": 1.0,
        "threshold": 1.0,
        "fired": True,
    },
]


@pytest.fixture
def version(policy):
    """A version row of the policy; the review pages read none of its bundle."""
    return PolicyVersion.objects.create(
        tenant=policy.tenant, policy=policy, number=1, bundle=b"{}", sha256="0" * 64, revision=1
    )


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def queued(version):
    """Two records of the tenant in its default queue; the first has a thumbnail."""
    records = [
        DecisionRecordFactory(
            version=version, prompt="first prompt", rules=RULES, thumbnail=_jpeg()
        ),
        DecisionRecordFactory(version=version, prompt="second prompt"),
    ]
    review_enqueue(records)
    return records


def url(name, **kwargs):
    return reverse(name, kwargs={"tenant": "acme", **kwargs})


def test_queue_list_shows_backlog_and_who_may_label(client, tenant, queued, reviewer, viewer):
    client.force_login(viewer)
    page = client.get(url("review-queues")).content.decode()
    assert 'data-testid="queue-default"' in page
    assert "<td>2</td>" in page
    assert "label-default" not in page
    client.force_login(reviewer)
    assert "label-default" in client.get(url("review-queues")).content.decode()


def test_viewer_cannot_open_the_reviewer_page(client, queued, viewer):
    client.force_login(viewer)
    response = client.get(url("review-label", queue="default"))
    assert response.status_code == 403
    assert "only reviewers, editors and admins can label" in response.content.decode()


def test_staff_serving_the_tenant_may_label_as_viewer(client, tenant, queued):
    staff = UserFactory(username="solutions", is_staff=True)
    MembershipFactory(tenant=tenant, user=staff, role=Role.VIEWER)
    client.force_login(staff)
    assert client.get(url("review-label", queue="default")).status_code == 200


def test_reviewer_labels_and_sees_the_explanation_only_after(client, queued, reviewer):
    client.force_login(reviewer)
    page = client.get(url("review-label", queue="default")).content.decode()
    assert "first prompt" in page
    assert 'class="review-thumb blurred"' in page
    assert 'data-testid="explanation"' not in page
    claim = ReviewClaim.objects.get(reviewer=reviewer)
    response = client.post(
        url("review-answer", queue="default", pk=claim.pk),
        {"action": "block", "categories": ["gore"], "seconds": "4.2"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith('<div id="review-work"')
    assert 'data-testid="explanation"' in page
    assert "<td>gore</td>" in page
    assert "second prompt" in page
    label = ReviewLabel.objects.get()
    assert (label.action, label.categories, label.seconds) == ("block", ["gore"], 4.2)


def test_late_answer_shows_the_services_message(client, queued, reviewer):
    client.force_login(reviewer)
    client.get(url("review-label", queue="default"))
    claim = ReviewClaim.objects.get(reviewer=reviewer)
    ReviewClaim.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=5))
    response = client.post(url("review-answer", queue="default", pk=claim.pk), {"action": "allow"})
    assert response.status_code == 409
    assert "Your lease on this item expired" in response.content.decode()
    assert not ReviewLabel.objects.exists()


def test_skip_then_undo_and_relabel(client, queued, reviewer):
    client.force_login(reviewer)
    client.get(url("review-label", queue="default"))
    first = ReviewClaim.objects.get(reviewer=reviewer)
    client.post(url("review-skip", queue="default", pk=first.pk), follow=True)
    second = ReviewClaim.objects.get(reviewer=reviewer, released=False)
    assert second.item_id != first.item_id
    client.post(url("review-answer", queue="default", pk=second.pk), {"action": "flag"})
    label = ReviewLabel.objects.get()
    page = client.post(url("review-undo", queue="default", pk=label.pk)).content.decode()
    assert not ReviewLabel.objects.exists()
    assert "second prompt" in page  # the undone item is back in front of the reviewer
    client.post(url("review-answer", queue="default", pk=second.pk), {"action": "block"})
    label = ReviewLabel.objects.get()
    ReviewClaim.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=5))
    response = client.post(url("review-undo", queue="default", pk=label.pk))
    assert response.status_code == 409
    assert 'data-testid="relabel-form"' in response.content.decode()
    client.post(url("review-relabel", queue="default", pk=label.pk), {"action": "allow"})
    label.refresh_from_db()
    assert label.action == "allow"


def test_other_tenants_review_objects_are_404(client, tenant, queued, reviewer, outsider):
    client.force_login(reviewer)
    client.get(url("review-label", queue="default"))
    claim = ReviewClaim.objects.get()
    client.post(url("review-answer", queue="default", pk=claim.pk), {"action": "allow"})
    label, item = ReviewLabel.objects.get(), claim.item
    client.force_login(outsider)
    for path in [
        url("review-queue", queue="default"),
        url("review-label", queue="default"),
        url("review-thumbnail", pk=item.pk),
        url("review-routing"),
    ]:
        assert client.get(path).status_code == 404
    theirs = default_queue(outsider.memberships.get().tenant)
    own = {"tenant": "globex", "queue": theirs.slug}
    for name, pk in [
        ("review-answer", claim.pk),
        ("review-skip", claim.pk),
        ("review-undo", label.pk),
        ("review-relabel", label.pk),
    ]:
        response = client.post(reverse(name, kwargs={**own, "pk": pk}), {"action": "allow"})
        assert response.status_code == 404, name
    assert (
        client.get(
            reverse("review-thumbnail", kwargs={"tenant": "globex", "pk": item.pk})
        ).status_code
        == 404
    )


def test_thumbnail_is_served_to_reviewers(client, queued, reviewer):
    client.force_login(reviewer)
    item = ReviewItem.objects.get(record=queued[0])
    response = client.get(url("review-thumbnail", pk=item.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


def test_default_queue_cannot_be_deleted_and_says_so(client, tenant, admin):
    client.force_login(admin)
    default_queue(tenant)
    response = client.post(url("review-queue-delete", queue="default"), follow=True)
    assert "is the default queue" in response.content.decode()
    assert tenant
    assert default_queue(tenant).pk


def test_editor_creates_a_queue_and_orders_routing_rules(client, tenant, editor, reviewer):
    client.force_login(editor)
    response = client.post(
        url("review-queues"),
        {
            "name": "Nudity",
            "slug": "nudity",
            "order": "oldest",
            "lease_seconds": 300,
            "overlap_share": 0.2,
            "overlap_k": 2,
        },
    )
    assert response.status_code == 302
    queue = ReviewQueue.objects.get(tenant=tenant, slug="nudity")
    for channel in ["alpha", "beta"]:
        client.post(url("review-routing"), {"queue": queue.pk, "channel": channel})
    second = RoutingRule.objects.get(channel="beta")
    client.post(url("review-routing-up", pk=second.pk))
    assert list(RoutingRule.objects.values_list("channel", flat=True)) == ["beta", "alpha"]
    bad = client.post(url("review-routing"), {"queue": queue.pk, "score_min": 0.5})
    assert bad.status_code == 400
    assert "needs a category" in bad.content.decode()
    client.force_login(reviewer)
    assert client.post(url("review-routing"), {"queue": queue.pk}).status_code == 403


def test_export_button_turns_labels_into_samples(client, tenant, queued, editor, media):
    client.force_login(editor)
    client.get(url("review-label", queue="default"))
    for _ in queued:
        claim = ReviewClaim.objects.get(reviewer=editor, answered_at__isnull=True)
        client.post(
            url("review-answer", queue="default", pk=claim.pk), {"action": "block"}, follow=True
        )
    target = sample_set_create(tenant=tenant, actor=editor, name="From production")
    response = client.post(
        url("review-export", queue="default"), {"sample_set": target.pk}, follow=True
    )
    assert "Exported 2 labelled item(s)" in response.content.decode()
    assert sorted(target.samples.values_list("expected_action", flat=True)) == ["block", "block"]


def _labelled_by_two(queue, records, answers):
    """Each record labelled by ann and bob with the given (ann's, bob's) actions."""
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    ReviewItem.objects.filter(record__in=records).update(labels_wanted=2)
    for user, index in ((ann, 0), (bob, 1)):
        for record, pair in zip(records, answers, strict=True):
            item = ReviewItem.objects.get(record=record)
            ReviewLabel.objects.create(
                tenant=queue.tenant, item=item, record=record, reviewer=user,
                action=pair[index], categories=["gore"] if pair[index] == "block" else [],
            )  # fmt: skip


def test_queue_page_shows_kappa_per_pair_and_category(client, tenant, version, viewer):
    records = [DecisionRecordFactory(version=version) for _ in range(4)]
    review_enqueue(records)
    queue = default_queue(tenant)
    pairs = [("block", "block"), ("allow", "allow"), ("block", "allow"), ("allow", "allow")]
    _labelled_by_two(queue, records, pairs)
    client.force_login(viewer)
    page = client.get(url("review-queue", queue="default")).content.decode()
    # ann: block allow block allow; bob: block allow allow allow -> kappa 0.5
    assert "<td>ann · bob</td><td>4</td><td>75%</td><td>0.50</td>" in page
    assert "<td>gore</td><td>4</td><td>0.50</td>" in page
    assert "export-form" not in page  # viewers do not export


def test_editor_changes_queue_settings_and_bad_ones_say_why(client, tenant, editor):
    client.force_login(editor)
    default_queue(tenant)
    settings = {"name": "Default", "order": "informative", "lease_seconds": 120, "overlap_k": 2}
    bad = client.post(url("review-queue", queue="default"), {**settings, "overlap_share": 3})
    assert bad.status_code == 400
    assert "between 0 and 1" in bad.content.decode()
    client.post(url("review-queue", queue="default"), {**settings, "overlap_share": 0.25})
    queue = default_queue(tenant)
    assert (queue.order, queue.lease_seconds, queue.overlap_share) == ("informative", 120, 0.25)


def test_the_queue_page_says_how_its_items_are_ordered(client, queued, viewer):
    queue = default_queue(queued[0].tenant)
    client.force_login(viewer)
    body = client.get(url("review-queue", queue=queue.slug)).content.decode()
    assert "Items are asked oldest first." in body
    queue.order = ReviewQueue.Order.INFORMATIVE
    queue.save(update_fields=["order"])
    body = client.get(url("review-queue", queue=queue.slug)).content.decode()
    assert "most informative first" in body
    assert "cosine similarity 0.95" in body
