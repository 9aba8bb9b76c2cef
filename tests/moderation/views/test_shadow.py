"""The shadow experiment page of a channel: counts, rules, flips, precision; tenants kept apart."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from moderation.models import ReviewItem, ReviewLabel, ShadowCount
from policy_admin.models import Channel
from policy_admin.services.publishing import policy_publish
from policy_admin.services.shadow import shadow_set
from tests.moderation.production_factories import DecisionRecordFactory, ReviewQueueFactory
from tests.policy_admin.factories import KeywordRuleSetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shadowed(policy, v1, editor):
    KeywordRuleSetFactory(policy=policy, name="Weapons", terms="gun", term_count=1)
    policy.refresh_from_db()
    policy.revision += 1
    policy.save(update_fields=["revision"])
    v2 = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    shadow_set(policy=policy, actor=editor, channel="production", number=2, rate=0.5)
    return Channel.objects.get(policy=policy, name="production"), v2


def page(policy, name="channel-shadow", **extra):
    kwargs = {"tenant": policy.tenant.slug, "slug": policy.slug, "channel": "production", **extra}
    return reverse(name, kwargs=kwargs)


def count(channel, enforced, shadow, n, rule_id="", minutes_ago=5):
    minute = (timezone.now() - dt.timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
    return ShadowCount.objects.create(
        tenant=channel.tenant,
        policy=channel.policy,
        minute=minute,
        channel="production",
        version_number=1,
        shadow_version_number=2,
        enforced_action=enforced,
        shadow_action=shadow,
        rule_id=rule_id,
        count=n,
    )


def test_the_page_shows_the_matrix_rules_and_flipped_requests(client, viewer, shadowed, v1):
    channel, v2 = shadowed
    channel.shadow_started_at -= dt.timedelta(hours=1)
    channel.save(update_fields=["shadow_started_at"])
    count(channel, "allow", "allow", 90)
    count(channel, "allow", "block", 10)
    count(channel, "allow", "block", 10, rule_id="keywords:weapons")
    count(channel, "block", "block", 4, minutes_ago=120)  # before the experiment: not counted
    flip = DecisionRecordFactory(
        version=v1,
        action="allow",
        reasons=["shadow_flip"],
        shadow_version=v2,
        shadow_action="block",
        prompt="a gun on a table",
        shadow_rules=[{"rule_id": "keywords:weapons", "kind": "keywords", "action": "block",
                       "score": 1.0, "threshold": 1.0, "fired": True}],
    )  # fmt: skip
    client.force_login(viewer)
    body = client.get(page(channel.policy)).content.decode()
    assert '<strong data-testid="shadowed">100</strong>' in body
    assert '<strong data-testid="flips">10</strong>' in body
    assert "keywords:weapons" in body
    assert "a gun on a table" in body
    assert 'data-testid="flips-chart"' in body
    detail = client.get(page(channel.policy, "channel-shadow-flip", pk=flip.pk)).content.decode()
    assert "Enforced v1: allow" in detail
    assert "Shadow v2: block" in detail


def test_labelled_flips_give_the_candidates_precision(client, viewer, shadowed, v1, reviewer):
    channel, v2 = shadowed
    queue = ReviewQueueFactory(tenant=channel.tenant)
    for label in ("block", "block", "allow"):
        record = DecisionRecordFactory(
            version=v1, action="allow", reasons=["shadow_flip"], shadow_version=v2,
            shadow_action="block",
        )  # fmt: skip
        item = ReviewItem.objects.create(tenant=channel.tenant, queue=queue, record=record)
        ReviewLabel.objects.create(
            tenant=channel.tenant, item=item, record=record, reviewer=reviewer, action=label
        )
    client.force_login(viewer)
    body = client.get(page(channel.policy)).content.decode()
    assert (
        "Of 3 labelled flips where the shadow was stricter, reviewers agreed with it on 2" in body
    )


def test_without_a_shadow_the_page_says_how_to_start_one(client, viewer, v1):
    client.force_login(viewer)
    body = client.get(page(v1.policy)).content.decode()
    assert 'data-testid="no-shadow"' in body


def test_another_tenants_channel_and_flip_are_404(client, outsider, shadowed, v1):
    channel, v2 = shadowed
    flip = DecisionRecordFactory(version=v1, shadow_version=v2, shadow_action="block")
    client.force_login(outsider)
    assert client.get(page(channel.policy)).status_code == 404
    assert client.get(page(channel.policy, "channel-shadow-flip", pk=flip.pk)).status_code == 404


def test_a_record_that_is_not_a_flip_is_404(client, viewer, shadowed, v1):
    channel, _ = shadowed
    plain = DecisionRecordFactory(version=v1)
    client.force_login(viewer)
    assert client.get(page(channel.policy, "channel-shadow-flip", pk=plain.pk)).status_code == 404
