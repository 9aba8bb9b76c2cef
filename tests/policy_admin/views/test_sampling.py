"""Production sampling of a policy: editors change it, audited; others are refused."""

import pytest
from django.urls import reverse

from policy_admin.models import AuditEvent, DecisionSampling
from tests.policy_admin.factories import PolicyFactory

pytestmark = pytest.mark.django_db


def page(policy):
    return reverse("policy-sampling", kwargs={"tenant": policy.tenant.slug, "slug": policy.slug})


FORM = {
    "enabled": "on",
    "review_per_minute": "120",
    "audit_share": "0.05",
    "thumbnail_px": "128",
}


def test_the_page_shows_the_defaults_before_anything_is_saved(client, policy, viewer):
    client.force_login(viewer)
    body = client.get(page(policy)).content.decode()
    assert 'value="60"' in body
    assert 'value="0.01"' in body
    assert "Only editors and admins can change it." in body
    assert not DecisionSampling.objects.exists()


def test_an_editor_saves_the_sampling_and_it_is_audited(client, policy, editor):
    client.force_login(editor)
    response = client.post(page(policy), FORM)
    assert response.status_code == 302
    sampling = DecisionSampling.objects.get(policy=policy)
    assert (sampling.review_per_minute, sampling.audit_share, sampling.thumbnail_px) == (
        120,
        0.05,
        128,
    )
    assert sampling.keep_blocks is False
    event = AuditEvent.objects.get(target_type="decision sampling")
    assert "review per minute 60 → 120" in event.summary
    client.post(page(policy), FORM)  # unchanged: no second entry
    assert AuditEvent.objects.filter(target_type="decision sampling").count() == 1


def test_an_audit_share_above_one_is_refused_with_the_field_named(client, policy, editor):
    client.force_login(editor)
    response = client.post(page(policy), {**FORM, "audit_share": "1.5"})
    assert response.status_code == 400
    assert 'id="id_audit_share-error"' in response.content.decode()
    assert not DecisionSampling.objects.exists()


def test_a_viewer_cannot_save(client, policy, viewer):
    client.force_login(viewer)
    assert client.post(page(policy), FORM).status_code == 403


def test_another_tenants_policy_is_a_404(client, other_tenant, editor):
    theirs = PolicyFactory(tenant=other_tenant, name="Theirs", slug="theirs")
    client.force_login(editor)
    assert client.get(page(theirs)).status_code == 404
    assert client.post(page(theirs), FORM).status_code == 404
