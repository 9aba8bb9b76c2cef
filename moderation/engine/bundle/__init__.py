"""The bundle: a typed, canonical, self-contained serialisation of one policy version."""

from moderation.engine.bundle.codec import bundle_from_dict, bundle_to_dict, canonical_json
from moderation.engine.bundle.types import (
    SPEC_VERSION,
    Bundle,
    CategoryOutputs,
    CategoryThreshold,
    Classifier,
    Concept,
    Condition,
    ConditionalRule,
    ConditionThreshold,
    EmbeddingSet,
    KeywordSet,
    PolicyInfo,
    Sampling,
)
from moderation.engine.match_options import MatchOptions

__all__ = [
    "SPEC_VERSION",
    "Bundle",
    "CategoryOutputs",
    "CategoryThreshold",
    "Classifier",
    "Concept",
    "Condition",
    "ConditionalRule",
    "ConditionThreshold",
    "EmbeddingSet",
    "KeywordSet",
    "MatchOptions",
    "PolicyInfo",
    "Sampling",
    "bundle_from_dict",
    "bundle_to_dict",
    "canonical_json",
]
