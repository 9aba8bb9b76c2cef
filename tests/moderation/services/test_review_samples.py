"""Label issues sent to review: one waiting item per sample, labels written back, audited."""

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404

from kernel.errors import ConflictError
from moderation.models import ReviewClaim, ReviewItem, Sample
from moderation.services import classifiers as training
from moderation.services.review import default_queue, review_answer, review_claim
from moderation.services.review_labels import review_relabel, review_undo
from moderation.services.review_samples import label_issues_send, review_samples_send
from policy_admin.models import AuditEvent
from tests.moderation.classifier_data import trained_with_issue
from tests.moderation.engine.conftest import FakeModels
from tests.moderation.factories import SampleFactory
from tests.moderation.production_factories import ReviewQueueFactory
from tests.tenants.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(policy, editor):
    return trained_with_issue(policy, editor)


def answer(queue, reviewer, action, categories=()):
    item = review_claim(queue, reviewer)
    claim = ReviewClaim.objects.get(item=item, reviewer=reviewer, answered_at__isnull=True)
    return review_answer(claim, reviewer, action, list(categories), 3.0)


def test_label_issues_are_queued_once_while_they_wait(trained, tenant, editor):
    queue = default_queue(tenant)
    first = label_issues_send(run=trained.run, queue=queue, actor=editor)
    assert (first.sent, first.waiting) == (len(trained.run.label_issues), 0)
    again = label_issues_send(run=trained.run, queue=queue, actor=editor)
    assert (again.sent, again.waiting) == (0, first.sent)
    other = ReviewQueueFactory(tenant=tenant)
    assert label_issues_send(run=trained.run, queue=other, actor=editor).sent == 0
    assert ReviewItem.objects.filter(sample=trained.wrong).count() == 1
    [event] = AuditEvent.objects.filter(target_type="review queue")
    assert f"sent {first.sent} likely label errors of Mascot" in event.summary


def test_the_surest_disagreement_is_asked_first_in_an_informative_queue(trained, tenant, editor):
    queue = ReviewQueueFactory(tenant=tenant, order="informative")
    a, b, c = (SampleFactory(sample_set__tenant=tenant) for _ in range(3))
    review_samples_send(queue=queue, sample_ids=[a.pk, b.pk, c.pk],
                        priorities={a.pk: 0.1, b.pk: 0.9, c.pk: 0.5})  # fmt: skip
    reviewer = UserFactory()
    assert review_claim(queue, reviewer).sample_id == b.pk
    label_issues_send(run=trained.run, queue=queue, actor=editor)
    [issue] = trained.run.label_issues
    item = ReviewItem.objects.get(sample=trained.wrong)
    assert item.priority == pytest.approx(abs(issue["score"] - issue["label"]))


def test_another_tenants_queue_is_404(trained, other_tenant, editor):
    with pytest.raises(Http404):
        label_issues_send(run=trained.run, queue=default_queue(other_tenant), actor=editor)


def test_another_tenants_samples_are_counted_missing(tenant, other_tenant):
    theirs = SampleFactory(sample_set__tenant=other_tenant)
    sent = review_samples_send(queue=default_queue(tenant), sample_ids=[theirs.pk, 10**9])
    assert (sent.sent, sent.missing) == (0, 2)
    assert not ReviewItem.objects.exists()


def test_an_item_holds_exactly_one_of_record_and_sample(tenant):
    queue = default_queue(tenant)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewItem.objects.create(tenant=tenant, queue=queue)


def test_a_second_waiting_item_of_one_sample_is_refused_by_the_database(tenant):
    sample = SampleFactory(sample_set__tenant=tenant)
    queue, other = default_queue(tenant), ReviewQueueFactory(tenant=tenant)
    ReviewItem.objects.create(tenant=tenant, queue=queue, sample=sample)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewItem.objects.create(tenant=tenant, queue=other, sample=sample)
    ReviewItem.objects.update(status="done")
    ReviewItem.objects.create(tenant=tenant, queue=other, sample=sample)  # labelled: may return


def test_the_label_is_written_back_audited_and_the_next_training_uses_it(
    trained, tenant, editor, reviewer
):
    queue = default_queue(tenant)
    review_samples_send(queue=queue, sample_ids=[trained.wrong.pk])
    label = answer(queue, reviewer, "review", ["drugs"])
    assert label.record_id is None
    sample = Sample.objects.get(pk=trained.wrong.pk)
    assert (sample.expected_action, sample.expected_categories) == ("review", ["drugs"])
    assert " action:review " in sample.search_keys
    assert "Relabelled in review (Default" in sample.notes
    assert "by acme-reviewer): allow (no categories) → review (drugs)" in sample.notes
    event = AuditEvent.objects.get(target_type="sample")
    assert event.summary.startswith(f"sample {sample.external_id} relabelled in review")
    assert event.before == {"expected_action": "allow", "expected_categories": []}
    assert event.after == {"expected_action": "review", "expected_categories": ["drugs"]}
    assert event.actor == reviewer
    classifier = trained.run.classifier
    chosen, labels = training.training_samples(
        classifier=classifier, sample_set=trained.run.sample_set
    )
    assert dict(zip([s.pk for s in chosen], labels.tolist(), strict=True))[sample.pk] is True
    second = training.training_start(
        classifier=classifier, sample_set=trained.run.sample_set, actor=editor
    )
    second = training.training_execute(
        run=training.training_claim(run_id=second.pk), models=FakeModels()
    )
    assert sample.pk not in [i["sample"] for i in second.label_issues]


def test_an_overlapped_sample_is_written_once_with_the_consensus(tenant, reviewer):
    queue = ReviewQueueFactory(tenant=tenant, overlap_share=1.0, overlap_k=3)
    sample = SampleFactory(sample_set__tenant=tenant)
    review_samples_send(queue=queue, sample_ids=[sample.pk])
    answer(queue, UserFactory(), "block")
    answer(queue, UserFactory(), "flag")
    sample.refresh_from_db()
    assert sample.expected_action == "allow"  # not yet: one label is missing
    answer(queue, UserFactory(), "block")
    sample.refresh_from_db()
    assert sample.expected_action == "block"
    assert AuditEvent.objects.filter(target_type="sample").count() == 1


def test_relabelling_a_done_sample_item_writes_the_new_label(tenant, reviewer):
    queue = default_queue(tenant)
    sample = SampleFactory(sample_set__tenant=tenant)
    review_samples_send(queue=queue, sample_ids=[sample.pk])
    label = answer(queue, reviewer, "block")
    review_relabel(label=label, reviewer=reviewer, action="flag", categories=[])
    sample.refresh_from_db()
    assert sample.expected_action == "flag"
    assert "block (no categories) → flag (no categories)" in sample.notes


def test_a_sample_item_is_not_exported_as_a_record(tenant, reviewer, editor, media):
    from moderation.services.review_export import review_export_items

    queue = default_queue(tenant)
    review_samples_send(queue=queue, sample_ids=[SampleFactory(sample_set__tenant=tenant).pk])
    answer(queue, reviewer, "block")
    assert review_export_items(queue=queue) == []


def test_undo_is_refused_when_the_sample_waits_again(tenant, reviewer):
    queue = default_queue(tenant)
    sample = SampleFactory(sample_set__tenant=tenant)
    review_samples_send(queue=queue, sample_ids=[sample.pk])
    label = answer(queue, reviewer, "block")
    assert review_samples_send(queue=queue, sample_ids=[sample.pk]).sent == 1
    with pytest.raises(ConflictError, match="sent for review again meanwhile"):
        review_undo(label=label, reviewer=reviewer)
    assert ReviewItem.objects.filter(sample=sample, status="open").count() == 1
