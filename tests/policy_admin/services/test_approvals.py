"""Four-eyes publishing: another member approves the exact revision; authors cannot."""

import pytest
from django.urls import reverse

from kernel.errors import ApplicationError, ConflictError
from policy_admin.models import AuditEvent, PolicyVersion
from policy_admin.services import policies
from policy_admin.services.approvals import policy_approve, publishing_settings_set
from policy_admin.services.publishing import policy_publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def edited_under_four_eyes(policy, keyword_set, editor, admin):
    """Approval is required, and the editor has changed the draft since it was created."""
    publishing_settings_set(tenant=policy.tenant, actor=admin, require_approval=True)
    policies.policy_update(policy=policy, actor=editor, revision=1, description="by the editor")


def test_publish_without_approval_is_refused(policy, editor):
    with pytest.raises(ApplicationError, match="requires a second person's approval"):
        policy_publish(policy=policy, actor=editor, revision=policy.revision)
    assert not PolicyVersion.objects.exists()


def test_author_cannot_approve_their_own_change(policy, editor):
    with pytest.raises(ApplicationError, match="cannot approve it"):
        policy_approve(policy=policy, actor=editor, revision=policy.revision)


def test_another_members_approval_lets_the_author_publish(policy, editor, admin):
    policy_approve(policy=policy, actor=admin, revision=policy.revision)
    version = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    assert version.number == 1
    assert AuditEvent.objects.filter(verb="approve", actor=admin).exists()


def test_an_edit_after_approval_drops_it(policy, editor, admin):
    policy_approve(policy=policy, actor=admin, revision=policy.revision)
    policies.policy_update(policy=policy, actor=editor, revision=policy.revision, name="Renamed")
    with pytest.raises(ApplicationError, match="has none"):
        policy_publish(policy=policy, actor=editor, revision=policy.revision)


def test_approval_by_someone_who_also_edited_does_not_count(policy, editor, admin):
    policy_approve(policy=policy, actor=admin, revision=policy.revision)
    policies.policy_update(policy=policy, actor=admin, revision=policy.revision, name="Admin too")
    with pytest.raises(ApplicationError, match="cannot approve"):
        policy_approve(policy=policy, actor=admin, revision=policy.revision)


def test_stale_and_repeated_approvals_are_refused(policy, admin):
    with pytest.raises(ConflictError, match="draft is at revision"):
        policy_approve(policy=policy, actor=admin, revision=1)
    policy_approve(policy=policy, actor=admin, revision=policy.revision)
    with pytest.raises(ConflictError, match="already approved"):
        policy_approve(policy=policy, actor=admin, revision=policy.revision)


def test_approve_from_the_api_and_page(client, api_client, policy, admin, viewer):
    api_client.force_authenticate(viewer)
    url = reverse("policy-version-approve", kwargs={"tenant": "acme", "policy": "default"})
    assert api_client.post(url, {"revision": policy.revision}).status_code == 403
    api_client.force_authenticate(admin)
    response = api_client.post(url, {"revision": policy.revision})
    assert (response.status_code, response.json()["approver"]) == (201, "acme-admin")
    client.force_login(admin)
    url = reverse("policy-versions", kwargs={"tenant": "acme", "slug": "default"})
    page = client.get(url).content.decode()
    assert "approved by acme-admin" in page


def test_admin_turns_four_eyes_off_from_the_page(client, policy, admin, editor):
    settings_page = reverse("publishing-settings", kwargs={"tenant": "acme"})
    client.force_login(editor)
    assert client.post(settings_page, {}).status_code == 403
    client.force_login(admin)
    client.post(settings_page, {})
    assert policy_publish(policy=policy, actor=editor, revision=policy.revision).number == 1
