"""Factories for policies and rules; a child takes its parent's tenant."""

import factory

from policy_admin.models import (
    CategoryThreshold,
    ClipConcept,
    CustomClassifier,
    EmbeddingRuleSet,
    FloorCategory,
    KeywordRuleSet,
    Policy,
)
from tests.tenants.factories import TenantFactory


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Policy {n}")
    slug = factory.Sequence(lambda n: f"policy-{n}")


class RuleFactory(factory.django.DjangoModelFactory):
    policy = factory.SubFactory(PolicyFactory)
    tenant = factory.SelfAttribute("policy.tenant")


class CategoryThresholdFactory(RuleFactory):
    class Meta:
        model = CategoryThreshold

    category = "violence"
    applies_to = "both"
    review_at = 0.5
    block_at = 0.8


class KeywordRuleSetFactory(RuleFactory):
    class Meta:
        model = KeywordRuleSet

    name = factory.Sequence(lambda n: f"Keywords {n}")
    terms = "gore\nbeheading"
    term_count = 2


class EmbeddingRuleSetFactory(RuleFactory):
    class Meta:
        model = EmbeddingRuleSet

    name = factory.Sequence(lambda n: f"Phrases {n}")
    examples = factory.LazyFunction(lambda: ["a person being hurt", "a bloody fight"])


class ClipConceptFactory(RuleFactory):
    class Meta:
        model = ClipConcept

    name = factory.Sequence(lambda n: f"Concept {n}")


class FloorCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FloorCategory

    category = "sexual/minors"
    applies_to = "both"
    review_at = 0.1
    block_at = 0.3


class CustomClassifierFactory(RuleFactory):
    class Meta:
        model = CustomClassifier

    name = factory.Sequence(lambda n: f"Classifier {n}")
    target = "prompt"
    positives = factory.LazyFunction(lambda: {"tags": ["mascot"]})
    negatives = factory.LazyFunction(lambda: {"actions": ["allow"]})
