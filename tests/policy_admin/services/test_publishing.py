"""Publishing: numbering, stale and concurrent publishes, strict builds, signatures, audit."""

import threading

import pytest
from django.db import connection

from kernel.errors import ApplicationError, ConflictError
from moderation.engine.bundle.types import Bundle
from moderation.engine.compiled import load_bundle
from policy_admin.bundles import signing
from policy_admin.models import AuditEvent, Policy, PolicyVersion
from policy_admin.services.drafts import StaleDraftError
from policy_admin.services.publishing import policy_publish
from tests.policy_admin.factories import (
    ClipConceptFactory,
    KeywordRuleSetFactory,
    PolicyFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keyword_set")]


def publish(policy, actor, note=""):
    policy.refresh_from_db()
    return policy_publish(policy=policy, actor=actor, revision=policy.revision, note=note)


def bump(policy):
    Policy.objects.filter(pk=policy.pk).update(revision=policy.revision + 1)
    policy.refresh_from_db()


def test_versions_are_numbered_one_two_three_and_chain_to_their_parent(policy, editor):
    first = publish(policy, editor, note="first")
    bump(policy)
    second = publish(policy, editor)
    assert (first.number, second.number) == (1, 2)
    assert second.parent == first
    assert Bundle.from_bytes(bytes(second.bundle)).policy.version == 2
    assert load_bundle(bytes(second.bundle), sha256=second.sha256).bundle.policy.slug == "default"


def test_stale_revision_is_refused_and_nothing_is_written(policy, editor):
    with pytest.raises(StaleDraftError, match="draft is at revision 1"):
        policy_publish(policy=policy, actor=editor, revision=0)
    assert not PolicyVersion.objects.exists()


def test_publishing_the_same_revision_twice_is_a_conflict(policy, editor):
    publish(policy, editor)
    with pytest.raises(ConflictError, match="was just published as v1"):
        publish(policy, editor)
    assert PolicyVersion.objects.count() == 1


def test_empty_policy_is_refused(tenant, editor):
    empty = PolicyFactory(tenant=tenant, slug="empty")
    with pytest.raises(ApplicationError, match="no rules of its own"):
        publish(empty, editor)


def test_concept_without_enough_positives_is_refused(policy, editor):
    ClipConceptFactory(policy=policy, name="Firearm")
    with pytest.raises(ApplicationError, match="Firearm.*needs at least 3"):
        publish(policy, editor)


def test_signature_verifies_with_the_served_public_key(policy, editor):
    version = publish(policy, editor)
    (key,) = signing.public_keys()["keys"]
    (signature,) = version.signatures
    assert signature["kid"] == key["kid"]
    assert signing.verify(bytes(version.bundle), signature["signature"], key["public_key"])
    assert not signing.verify(
        bytes(version.bundle) + b" ", signature["signature"], key["public_key"]
    )


def test_during_a_rotation_both_keys_sign_and_both_verify(policy, editor):
    old = signing.signing_keys()[0]
    new = signing.signing_key_rotate()
    version = publish(policy, editor)
    keys = {k["kid"]: k for k in signing.public_keys()["keys"]}
    assert {keys[old.kid]["status"], keys[new.kid]["status"]} == {"retiring", "active"}
    assert [s["kid"] for s in version.signatures] == [new.kid, old.kid]
    for s in version.signatures:
        assert signing.verify(bytes(version.bundle), s["signature"], keys[s["kid"]]["public_key"])
    assert signing.signing_key_retire() == [old.kid]
    assert [k.kid for k in signing.signing_keys()] == [new.kid]


def test_key_files_are_private(signing_key_dir):
    key = signing.signing_keys()[0]
    path = signing_key_dir / f"{key.kid}.active.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    assert signing_key_dir.stat().st_mode & 0o777 == 0o700


def test_publish_is_audited(policy, editor):
    publish(policy, editor, note="launch")
    event = AuditEvent.objects.get(verb="publish")
    assert (event.actor, event.policy, event.after["number"]) == (editor, policy, 1)
    assert "launch" in event.summary


def test_versions_cannot_be_numbered_twice(policy, editor):
    version = publish(policy, editor)
    duplicate = PolicyVersion(
        tenant=version.tenant, policy=policy, number=1, bundle=b"{}", sha256="0" * 64, revision=1
    )
    with pytest.raises(Exception, match="already has a version with this number"):
        duplicate.validate_constraints()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_publishes_give_exactly_one_new_version(tenant, editor):
    policy = PolicyFactory(tenant=tenant, slug="race")
    KeywordRuleSetFactory(policy=policy)
    publish(policy, editor)
    bump(policy)
    barrier, outcomes = threading.Barrier(2), []

    def racer():
        try:
            barrier.wait()
            outcomes.append(publish(Policy.objects.get(pk=policy.pk), editor).number)
        except ConflictError as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = sorted(PolicyVersion.objects.filter(policy=policy).values_list("number", flat=True))
    assert numbers == [1, 2]
    assert 2 in outcomes
    assert any(isinstance(o, str) and "Reload" in o for o in outcomes)


def test_deleting_a_published_policy_deletes_its_versions_and_channels(policy, editor):
    from policy_admin.models import Channel, ChannelMove
    from policy_admin.services import policies
    from policy_admin.services.publishing import channel_promote, channel_rollback

    publish(policy, editor)
    bump(policy)
    publish(policy, editor)
    channel_promote(policy=policy, actor=editor, channel="production", number=1)
    channel_promote(policy=policy, actor=editor, channel="production", number=2)
    channel_rollback(policy=policy, actor=editor, channel="production", number=1)
    policy.refresh_from_db()
    policies.policy_delete(policy=policy, actor=editor, revision=policy.revision)
    assert not PolicyVersion.objects.exists()
    assert not Channel.objects.exists()
    assert not ChannelMove.objects.exists()


def test_a_stored_version_cannot_be_changed(policy, editor):
    from policy_admin.models.publishing import ImmutableVersionError

    version = publish(policy, editor)
    version.note = "rewritten"
    with pytest.raises(ImmutableVersionError, match="cannot be changed"):
        version.save()
    assert PolicyVersion.objects.get().note == ""
