"""Conditional rules of a policy's draft: a prompt signal that changes image thresholds."""

from policy_admin.api.serializers.conditions import ConditionInputSerializer, ConditionSerializer
from policy_admin.api.views.base import RuleViewSet, rule_schema
from policy_admin.models import ConditionalRule
from policy_admin.services import conditions


@rule_schema(ConditionInputSerializer, ConditionSerializer)
class ConditionViewSet(RuleViewSet):
    """A policy's conditional rules; an image threshold looser than the floor is refused."""

    model = ConditionalRule
    serializer_class = ConditionSerializer
    input_serializer_class = ConditionInputSerializer

    def get_queryset(self):
        return super().get_queryset().select_related("keyword_set", "embedding_set")

    def save_rule(self, rule, fields, revision):
        return conditions.condition_save(
            policy=self.policy,
            actor=self.request.user,
            revision=revision,
            condition=rule,
            **fields,
        )

    def delete_rule(self, rule, revision):
        conditions.condition_delete(condition=rule, actor=self.request.user, revision=revision)
