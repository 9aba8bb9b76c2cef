"""Category thresholds in the editor: inline saves, the floor, field errors, stale saves."""

import html
import json

import pytest
from django.urls import reverse

from policy_admin.models import CategoryThreshold
from tests.policy_admin.factories import (
    CategoryThresholdFactory,
    FloorCategoryFactory,
    PolicyFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def save_url(policy):
    return reverse("threshold-save", kwargs={"tenant": policy.tenant.slug, "slug": policy.slug})


def row(category="violence", review="0.4", block="0.7", revision=1, **extra):
    data = {"category": category, "applies_to": "both", "review_at": review, "block_at": block}
    return {**data, "enabled": "on", "revision": revision, **extra}


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_editor_saves_a_row_with_htmx_and_announces_the_new_revision(client, policy, editor):
    client.force_login(editor)
    response = client.post(save_url(policy), row(), **HTMX)
    assert response.status_code == 200
    threshold = CategoryThreshold.objects.get(policy=policy)
    assert (threshold.review_at, threshold.block_at) == (0.4, 0.7)
    assert json.loads(response["HX-Trigger"]) == {"revision-changed": {"revision": 2}}
    body = text(response)
    assert body.strip().startswith("<tr")
    assert f'name="threshold" value="{threshold.pk}"' in body
    assert 'name="revision" value="2"' in body


def test_second_row_saved_with_the_announced_revision_is_accepted(client, policy, editor):
    client.force_login(editor)
    client.post(save_url(policy), row(), **HTMX)
    response = client.post(save_url(policy), row("gore", revision=2), **HTMX)
    assert response.status_code == 200
    assert CategoryThreshold.objects.filter(policy=policy).count() == 2


def test_review_above_block_is_an_error_next_to_review_keeping_the_input(client, policy, editor):
    client.force_login(editor)
    response = client.post(save_url(policy), row(review="0.9", block="0.7"), **HTMX)
    assert response.status_code == 400
    body = text(response)
    assert 'data-testid="error-review_at">Review at 0.9 is above block at 0.7' in body
    assert 'name="review_at" min="0" max="1" step="0.01" value="0.9"' in body
    assert not CategoryThreshold.objects.exists()


def test_out_of_range_score_is_refused(client, policy, editor):
    client.force_login(editor)
    response = client.post(save_url(policy), row(block="1.5"), **HTMX)
    assert response.status_code == 400
    assert 'data-testid="error-block_at"' in text(response)


def test_loosening_the_floor_is_refused_next_to_the_field(client, policy, editor):
    FloorCategoryFactory(category="sexual/minors", review_at=0.1, block_at=0.3)
    client.force_login(editor)
    response = client.post(
        save_url(policy), row("sexual/minors", review="0.1", block="0.5"), **HTMX
    )
    assert response.status_code == 400
    body = text(response)
    assert 'data-testid="error-block_at">sexual/minors (prompts and images): block at 0.5 is ' in (
        body
    )
    assert "looser than the platform floor's 0.3" in body
    assert not CategoryThreshold.objects.exists()


def test_disabling_a_floored_category_is_refused(client, policy, editor):
    FloorCategoryFactory(category="sexual/minors", review_at=0.1, block_at=0.3)
    client.force_login(editor)
    data = row("sexual/minors", review="0.1", block="0.2")
    del data["enabled"]
    response = client.post(save_url(policy), data, **HTMX)
    assert 'data-testid="error-enabled">sexual/minors (prompts and images) cannot be disabled' in (
        text(response)
    )


def test_stale_save_is_409_naming_who_changed_what_and_keeps_input(client, policy, editor, admin):
    client.force_login(admin)
    client.post(save_url(policy), row("gore", review="0.3", block="0.6"), **HTMX)
    client.force_login(editor)
    response = client.post(save_url(policy), row(review="0.45", block="0.75"), **HTMX)
    assert response.status_code == 409
    body = text(response)
    assert "you had revision 1, it is now 2" in body
    assert "acme-admin created category threshold “gore (both)”" in body
    assert 'value="0.45"' in body
    assert "Reload the latest draft" in body
    assert not CategoryThreshold.objects.filter(category="violence").exists()


def test_without_htmx_a_refusal_renders_the_editor_with_the_row_input(client, policy, editor):
    client.force_login(editor)
    response = client.post(save_url(policy), row(review="0.95", block="0.7"))
    assert response.status_code == 400
    body = text(response)
    assert "<h1>" in body
    assert 'value="0.95"' in body
    ok = client.post(save_url(policy), row())
    assert ok.status_code == 302
    assert ok.url.endswith("#thresholds")


def test_reset_removes_the_threshold_and_shows_the_default_row(client, policy, editor):
    threshold = CategoryThresholdFactory(policy=policy, category="violence")
    client.force_login(editor)
    url = reverse(
        "threshold-reset", kwargs={"tenant": "acme", "slug": policy.slug, "pk": threshold.pk}
    )
    response = client.post(url, {"revision": 1}, **HTMX)
    assert response.status_code == 200
    assert "Not set (catalogue default: review 0.6 · block 0.85)" in text(response)
    assert not CategoryThreshold.objects.exists()


def test_another_tenants_threshold_id_is_404_through_own_tenant(
    client, policy, other_tenant, editor
):
    foreign = CategoryThresholdFactory(policy=PolicyFactory(tenant=other_tenant))
    client.force_login(editor)
    reset = reverse(
        "threshold-reset", kwargs={"tenant": "acme", "slug": policy.slug, "pk": foreign.pk}
    )
    assert client.post(reset, {"revision": 1}).status_code == 404
    response = client.post(save_url(policy), row(threshold=foreign.pk), **HTMX)
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.review_at == 0.5


def test_viewer_cannot_save_or_reset(client, policy, viewer):
    threshold = CategoryThresholdFactory(policy=policy)
    client.force_login(viewer)
    reset = reverse(
        "threshold-reset", kwargs={"tenant": "acme", "slug": policy.slug, "pk": threshold.pk}
    )
    assert client.post(save_url(policy), row(), **HTMX).status_code == 403
    assert client.post(reset, {"revision": 1}).status_code == 403


def test_anonymous_and_outsider(client, policy, outsider):
    assert client.post(save_url(policy), row()).status_code == 302
    client.force_login(outsider)
    assert client.post(save_url(policy), row()).status_code == 404
