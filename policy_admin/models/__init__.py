"""Policies, their rule kinds and trained classifiers, the platform floor and the audit log."""

from policy_admin.fleet.models import FleetInstance, FleetToken
from policy_admin.models.audit import AuditEvent
from policy_admin.models.classifiers import ClassifierVersion, CustomClassifier
from policy_admin.models.conditions import ConditionalRule
from policy_admin.models.floor import FloorCategory, FloorKeywordSet
from policy_admin.models.policy import Policy
from policy_admin.models.publishing import (
    Channel,
    ChannelMove,
    PolicyVersion,
    PublishApproval,
    PublishingSettings,
)
from policy_admin.models.robustness import KeywordRobustnessReport
from policy_admin.models.rules import (
    AppliesTo,
    CategoryThreshold,
    ClipConcept,
    ConceptImage,
    EmbeddingRuleSet,
    KeywordRuleSet,
    TextTarget,
)
from policy_admin.models.sampling import DecisionSampling

__all__ = [
    "AppliesTo",
    "TextTarget",
    "AuditEvent",
    "CategoryThreshold",
    "Channel",
    "DecisionSampling",
    "ChannelMove",
    "ClassifierVersion",
    "CustomClassifier",
    "ClipConcept",
    "ConceptImage",
    "ConditionalRule",
    "EmbeddingRuleSet",
    "FleetInstance",
    "FleetToken",
    "FloorCategory",
    "FloorKeywordSet",
    "KeywordRobustnessReport",
    "KeywordRuleSet",
    "Policy",
    "PolicyVersion",
    "PublishApproval",
    "PublishingSettings",
]
