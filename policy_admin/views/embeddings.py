"""Embedding sets: example phrases and counter-examples compared with prompts by similarity."""

from policy_admin.forms.policies import EmbeddingSetForm
from policy_admin.models import EmbeddingRuleSet
from policy_admin.services import rules
from policy_admin.views.base import ConfirmDeleteView, RuleFormView


class EmbeddingSetFormView(RuleFormView):
    """Create or edit an embedding set."""

    template_name = "policy_admin/embedding_set_form.html"
    model = EmbeddingRuleSet
    form_class = EmbeddingSetForm
    anchor = "embeddings"
    error_field = "examples"
    saved_message = "Saved embedding set {rule}."

    def initial(self, obj) -> dict:
        if obj is None:
            return {"action": "review", "threshold": 0.6, "applies_to": "prompt"}
        return {
            "name": obj.name,
            "action": obj.action,
            "threshold": obj.threshold,
            "applies_to": obj.applies_to,
            "examples": "\n".join(obj.examples),
            "counter_examples": "\n".join(obj.counter_examples),
        }

    def save(self, form, obj):
        return rules.embedding_set_save(
            policy=self.policy,
            actor=self.request.user,
            revision=form.cleaned_data["revision"],
            embedding_set=obj,
            **form.service_fields(),
        )


class EmbeddingSetDeleteView(ConfirmDeleteView):
    model = EmbeddingRuleSet
    anchor = "embeddings"
    consequence = "Its example phrases and counter-examples go with it."

    def describe(self, obj) -> str:
        return f"the embedding set “{obj.name}”"

    def delete(self, obj, actor, revision):
        rules.embedding_set_delete(embedding_set=obj, actor=actor, revision=revision)
