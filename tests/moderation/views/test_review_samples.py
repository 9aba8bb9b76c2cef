"""Pages of samples sent for relabelling: the classifier page's button, the reviewer page."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from moderation.models import ReviewClaim, ReviewItem
from moderation.services.review import default_queue
from moderation.services.review_samples import review_samples_send
from tests.images import png_bytes
from tests.moderation.classifier_data import trained_with_issue
from tests.moderation.factories import SampleFactory
from tests.moderation.production_factories import ReviewQueueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(policy, editor):
    return trained_with_issue(policy, editor)


def send_url(trained, tenant="acme"):
    classifier = trained.run.classifier
    return reverse(
        "classifier-send-issues",
        kwargs={"tenant": tenant, "slug": classifier.policy.slug, "pk": classifier.pk},
    )


def review_url(name, **kwargs):
    return reverse(name, kwargs={"tenant": "acme", **kwargs})


def test_the_button_sends_the_issues_once_and_says_how_many(client, trained, editor):
    client.force_login(editor)
    number = trained.run.version.number
    page = client.get(send_url(trained).replace("send-issues/", "")).content.decode()
    assert 'data-testid="send-issues"' in page
    assert "Send 1 for relabelling" in page
    page = client.post(send_url(trained), {"version": number}, follow=True).content.decode()
    assert "Sent 1 likely label error to the review queue “Default”" in page
    assert '<td data-testid="issue-review">waiting</td>' in page
    page = client.post(send_url(trained), {"version": number}, follow=True).content.decode()
    assert "Sent 0 likely label errors to the review queue “Default”; 1 were already" in page
    assert ReviewItem.objects.filter(sample=trained.wrong).count() == 1


def test_the_issue_links_to_its_sample(client, trained, editor):
    client.force_login(editor)
    page = client.get(send_url(trained).replace("send-issues/", "")).content.decode()
    link = f"/t/acme/samples/{trained.wrong.sample_set_id}/?sample={trained.wrong.pk}"
    assert link in page
    shown = client.get(link).content.decode()
    assert shown.count('data-testid="sample-row"') == 1
    assert f'id="sample-{trained.wrong.pk}"' in shown


def test_a_viewer_sees_no_button_and_cannot_send(client, trained, viewer):
    client.force_login(viewer)
    page = client.get(send_url(trained).replace("send-issues/", "")).content.decode()
    assert 'data-testid="send-issues"' not in page
    response = client.post(send_url(trained), {"version": trained.run.version.number})
    assert response.status_code == 403
    assert not ReviewItem.objects.exists()


def test_another_tenants_classifier_or_queue_is_404(
    client, trained, editor, outsider, other_tenant
):
    theirs = ReviewQueueFactory(tenant=other_tenant)
    client.force_login(editor)
    response = client.post(send_url(trained), {"version": 1, "queue": theirs.pk})
    assert response.status_code == 404
    client.force_login(outsider)
    assert client.post(send_url(trained, "globex"), {"version": 1}).status_code == 404
    assert client.post(send_url(trained), {"version": 1}).status_code == 404
    assert not ReviewItem.objects.exists()


def test_the_reviewer_labels_a_sample_item_and_it_is_written_back(client, tenant, reviewer, media):
    sample = SampleFactory(sample_set__tenant=tenant, prompt="our mascot on a skateboard")
    sample.image.save("m.png", ContentFile(png_bytes((200, 10, 10))), save=True)
    queue = default_queue(tenant)
    review_samples_send(queue=queue, sample_ids=[sample.pk])
    client.force_login(reviewer)
    page = client.get(review_url("review-label", queue="default")).content.decode()
    assert f'data-sample="{sample.pk}"' in page
    assert "our mascot on a skateboard" in page
    assert f"Sample {sample.external_id} of {sample.sample_set.name}" in page
    assert 'class="review-thumb blurred"' in page
    item = ReviewItem.objects.get()
    image = client.get(review_url("review-thumbnail", pk=item.pk))
    assert image.status_code == 200
    assert b"".join(image.streaming_content) == png_bytes((200, 10, 10))
    claim = ReviewClaim.objects.get(reviewer=reviewer)
    page = client.post(
        review_url("review-answer", queue="default", pk=claim.pk),
        {"action": "review", "categories": ["drugs"]},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert f"Your last answer: sample {sample.external_id}" in page
    assert "it now expects review (drugs), and the next training uses it" in page
    sample.refresh_from_db()
    assert sample.expected_action == "review"


def test_a_sample_items_image_is_404_to_another_tenant(client, tenant, outsider, media):
    sample = SampleFactory(sample_set__tenant=tenant)
    sample.image.save("m.png", ContentFile(png_bytes()), save=True)
    review_samples_send(queue=default_queue(tenant), sample_ids=[sample.pk])
    client.force_login(outsider)
    item = ReviewItem.objects.get()
    url = reverse("review-thumbnail", kwargs={"tenant": "globex", "pk": item.pk})
    assert client.get(url).status_code == 404
