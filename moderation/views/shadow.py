"""A channel's shadow experiment: the flip matrix, top rules, flips over time, flipped requests."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from moderation.engine.decision import ACTIONS
from moderation.models import DecisionRecord
from moderation.selectors import shadow as selectors
from policy_admin.models import Channel
from policy_admin.views.base import PolicyPageMixin
from tenants.scoping import scoped


class ChannelShadowMixin(PolicyPageMixin):
    def channel(self) -> Channel:
        return get_object_or_404(
            scoped(Channel, self.tenant)
            .filter(policy=self.policy)
            .select_related("version", "shadow_version"),
            name=self.kwargs["channel"],
        )


class ShadowView(ChannelShadowMixin, TemplateView):
    """The running experiment; with no shadow, says how to start one."""

    template_name = "moderation/shadow.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        channel = self.channel()
        context.update(channel=channel, experiment=selectors.experiment(channel), actions=ACTIONS)
        return context


class ShadowFlipView(ChannelShadowMixin, TemplateView):
    """One flipped request: the enforced and the shadow explanation side by side."""

    template_name = "moderation/shadow_flip.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        channel = self.channel()
        try:
            record = selectors.flipped_record(channel, self.kwargs["pk"])
        except DecisionRecord.DoesNotExist:
            raise Http404("No such flipped request on this channel.") from None
        context.update(channel=channel, record=record)
        return context
