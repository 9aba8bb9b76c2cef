"""Conditional rules: when a prompt signal fires, other image thresholds judge the request."""

from policy_admin.forms.conditions import ConditionForm, threshold_lines
from policy_admin.models import ConditionalRule
from policy_admin.services import conditions
from policy_admin.views.base import ConfirmDeleteView, RuleFormView


def _refused_field(error) -> str | None:
    # Threshold refusals (catalogue, order, floor) list problems; the others concern the signal.
    return "image_thresholds" if "problems" in error.extra else None


class ConditionFormView(RuleFormView):
    """Create or edit a conditional rule."""

    template_name = "policy_admin/condition_form.html"
    model = ConditionalRule
    form_class = ConditionForm
    anchor = "conditions"
    error_field = staticmethod(_refused_field)
    saved_message = "Saved conditional rule {rule}."

    def form_kwargs(self) -> dict:
        return {"policy": self.policy}

    def initial(self, obj) -> dict:
        if obj is None:
            return {"when": ConditionalRule.When.KEYWORD_SET, "enabled": True}
        return {
            "name": obj.name,
            "when": obj.when,
            "keyword_set": obj.keyword_set_id,
            "embedding_set": obj.embedding_set_id,
            "category": obj.category,
            "at_least": obj.at_least,
            "image_thresholds": threshold_lines(obj.image_thresholds),
            "enabled": obj.enabled,
        }

    def save(self, form, obj):
        return conditions.condition_save(
            policy=self.policy,
            actor=self.request.user,
            revision=form.cleaned_data["revision"],
            condition=obj,
            **form.service_fields(),
        )


class ConditionDeleteView(ConfirmDeleteView):
    model = ConditionalRule
    anchor = "conditions"
    consequence = "The sets it reads stay; images are judged by the policy's thresholds again."

    def describe(self, obj) -> str:
        return f"the conditional rule “{obj.name}”"

    def delete(self, obj, actor, revision):
        conditions.condition_delete(condition=obj, actor=actor, revision=revision)
