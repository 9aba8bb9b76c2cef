"""Category thresholds and embedding sets of a policy's draft."""

from policy_admin.api.serializers.rules import (
    EmbeddingSetInputSerializer,
    EmbeddingSetSerializer,
    ThresholdInputSerializer,
    ThresholdSerializer,
)
from policy_admin.api.views.base import RuleViewSet, rule_schema
from policy_admin.models import CategoryThreshold, EmbeddingRuleSet
from policy_admin.services import rules


@rule_schema(ThresholdInputSerializer, ThresholdSerializer)
class ThresholdViewSet(RuleViewSet):
    """A policy's category thresholds; a threshold looser than the platform floor is refused."""

    model = CategoryThreshold
    serializer_class = ThresholdSerializer
    input_serializer_class = ThresholdInputSerializer

    def save_rule(self, rule, fields, revision):
        return rules.threshold_save(
            policy=self.policy,
            actor=self.request.user,
            revision=revision,
            threshold=rule,
            **fields,
        )

    def delete_rule(self, rule, revision):
        rules.threshold_delete(threshold=rule, actor=self.request.user, revision=revision)


@rule_schema(EmbeddingSetInputSerializer, EmbeddingSetSerializer)
class EmbeddingSetViewSet(RuleViewSet):
    """A policy's embedding sets: example phrases a prompt is compared with."""

    model = EmbeddingRuleSet
    serializer_class = EmbeddingSetSerializer
    input_serializer_class = EmbeddingSetInputSerializer

    def save_rule(self, rule, fields, revision):
        return rules.embedding_set_save(
            policy=self.policy,
            actor=self.request.user,
            revision=revision,
            embedding_set=rule,
            **fields,
        )

    def delete_rule(self, rule, revision):
        rules.embedding_set_delete(embedding_set=rule, actor=self.request.user, revision=revision)
