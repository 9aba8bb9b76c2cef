"""Starting a keyword set's robustness report from its page (the page itself is policy_admin's)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views import View

from kernel.errors import ApplicationError
from moderation.services.robustness import keyword_robustness_start
from policy_admin.models import KeywordRuleSet
from policy_admin.views.base import PolicyPageMixin
from policy_admin.views.keywords import keyword_set_url


class KeywordRobustnessStartView(PolicyPageMixin, View):
    """POST: queue a report of the set as it is now, then back to the set's page."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        keyword_set = self.get_rule(KeywordRuleSet, self.kwargs["pk"])
        try:
            keyword_robustness_start(keyword_set=keyword_set, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Started the robustness report of {keyword_set.name}.")
        return redirect(f"{keyword_set_url(keyword_set, self.tenant)}#robustness")
