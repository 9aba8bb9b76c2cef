"""Factories for production decisions and review queues; a child takes its parent's tenant.

A record needs a published version: pass `version=` (the `v1` fixture), and the
policy and tenant follow from it.
"""

import factory
from django.utils import timezone

from moderation.models import (
    DecisionBatch,
    DecisionCount,
    DecisionRecord,
    ReviewItem,
    ReviewLabel,
    ReviewQueue,
    RoutingRule,
)


class DecisionBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DecisionBatch

    tenant = factory.SelfAttribute("policy.tenant")
    batch_id = factory.Sequence(lambda n: f"batch-{n:06d}")
    instance_id = "agent-1"


class DecisionRecordFactory(factory.django.DjangoModelFactory):
    """A kept `review` decision of `version`'s policy on channel production."""

    class Meta:
        model = DecisionRecord

    policy = factory.SelfAttribute("version.policy")
    tenant = factory.SelfAttribute("version.tenant")
    batch = factory.SubFactory(DecisionBatchFactory, policy=factory.SelfAttribute("..policy"))
    request_id = factory.Sequence(lambda n: f"req-{n:08d}")
    decided_at = factory.LazyFunction(timezone.now)
    channel = "production"
    action = "review"
    reasons = factory.LazyFunction(lambda: ["review"])
    audited = False
    inclusion_probability = None
    rules = factory.LazyFunction(list)
    scores = factory.LazyFunction(dict)
    prompt = factory.Sequence(lambda n: f"a production prompt number {n}")


class ReviewQueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewQueue

    name = factory.Sequence(lambda n: f"Queue {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    tenant = factory.SelfAttribute("queue.tenant")
    position = factory.Sequence(int)


class ReviewItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewItem

    tenant = factory.SelfAttribute("record.tenant")
    queue = factory.SubFactory(ReviewQueueFactory, tenant=factory.SelfAttribute("..tenant"))


class ReviewLabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewLabel

    tenant = factory.SelfAttribute("item.tenant")
    record = factory.SelfAttribute("item.record")
    action = "allow"


class DecisionCountFactory(factory.django.DjangoModelFactory):
    """Decisions of one minute; pass `policy=` (and `version_number=` when not 1)."""

    class Meta:
        model = DecisionCount

    tenant = factory.SelfAttribute("policy.tenant")
    minute = factory.LazyFunction(lambda: timezone.now().replace(second=0, microsecond=0))
    channel = "production"
    version_number = 1
    action = "allow"
    rule_id = ""
    count = 1
