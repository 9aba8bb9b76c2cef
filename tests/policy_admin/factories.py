"""Factories for policies and rules; a child takes its parent's tenant."""

import factory

from policy_admin.models import (
    CategoryThreshold,
    ClipConcept,
    ConditionalRule,
    CustomClassifier,
    EmbeddingRuleSet,
    FloorCategory,
    KeywordRobustnessReport,
    KeywordRuleSet,
    Policy,
)
from policy_admin.selectors.robustness import keyword_set_fingerprint
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


def robustness_row(name: str, recall: float, *, expected: bool = True, variants: int = 100) -> dict:
    """One operator's row of a robustness report, as moderation.analysis.robustness writes it."""
    caught = round(recall * variants)
    escaped = [{"term": "gore", "variant": f"g{'o' * (i + 2)}re"} for i in range(variants - caught)]
    return {
        "name": name,
        "label": name.replace("_", " ").capitalize(),
        "example": "",
        "options": [name],
        "expected": expected,
        "options_off": [] if expected else [name],
        "variants": variants,
        "caught": caught,
        "recall": recall,
        "escaped_count": len(escaped),
        "escaped": escaped[:10],
    }


def robustness_result(*rows: dict, pairs: tuple = ()) -> dict:
    benign = {"probes": 0, "sources": {"words": "w", "word_count": 0, "phrases": 0}, "modes": {}}
    return {
        "seed": 1,
        "terms_total": 2,
        "terms_sampled": 2,
        "mode": "whole_word",
        "variants": sum(r["variants"] for r in rows + pairs),
        "variants_per_second": 1000,
        "operators": list(rows),
        "pairs": list(pairs),
        "benign": benign,
    }


class KeywordRobustnessReportFactory(factory.django.DjangoModelFactory):
    """A finished report of a keyword set as it is now (its fingerprint current)."""

    class Meta:
        model = KeywordRobustnessReport

    keyword_set = factory.SubFactory(KeywordRuleSetFactory)
    tenant = factory.SelfAttribute("keyword_set.tenant")
    status = KeywordRobustnessReport.Status.SUCCEEDED
    fingerprint = factory.LazyAttribute(lambda o: keyword_set_fingerprint(o.keyword_set))
    policy_revision = 1
    result = factory.LazyFunction(lambda: robustness_result(robustness_row("case", 1.0)))


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


class ConditionalRuleFactory(RuleFactory):
    """A condition on the prompt nudity score that lowers the image nudity thresholds."""

    class Meta:
        model = ConditionalRule

    name = factory.Sequence(lambda n: f"Condition {n}")
    when = ConditionalRule.When.CATEGORY
    category = "nudity"
    at_least = 0.5
    image_thresholds = factory.LazyFunction(
        lambda: [{"category": "nudity", "review_at": 0.2, "block_at": 0.3}]
    )
