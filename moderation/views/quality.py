"""A policy's quality pages: metrics and latency over time, fleet rollout health, score drift."""

import datetime as dt

from django.http import Http404
from django.utils import timezone
from django.views.generic import TemplateView

from kernel.errors import ApplicationError
from moderation.analysis import drift
from moderation.forms.quality import DriftForm
from moderation.models import TestRun
from moderation.selectors import production, quality
from policy_admin.views.base import PolicyPageMixin


class QualityView(PolicyPageMixin, TemplateView):
    """Precision/recall/F1 per sample set over time, latency per stage, rollout per channel,
    and production: decisions over time, review backlog, audit-stratum estimates."""

    template_name = "moderation/quality.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(vars(quality.policy_quality(policy=self.policy)))
        context["production"] = production.policy_production(policy=self.policy)
        return context


# The production side of the drift page: audited decisions of the last day by default.
PRODUCTION_HOURS = 24


class DriftView(PolicyPageMixin, TemplateView):
    """Score distributions of a baseline suite against a later suite or a window of live tests."""

    template_name = "moderation/quality_drift.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = DriftForm(self.request.GET)
        live = query.live
        window = query.value("window", quality.LIVE_WINDOW) if live else 0
        context.update(
            suites=list(quality.finished_suites(policy=self.policy)[: quality.MAX_RUNS]),
            window=window or quality.LIVE_WINDOW,
            live=live,
            psi_alert=drift.PSI_ALERT,
        )
        hours = query.value("hours", PRODUCTION_HOURS)
        context.update(production=query.production, hours=hours)
        try:
            if query.production:
                context["comparison"] = production.drift_against_production(
                    policy=self.policy,
                    baseline_id=query.baseline_id,
                    since=timezone.now() - dt.timedelta(hours=hours),
                )
            else:
                context["comparison"] = quality.drift_compare(
                    policy=self.policy,
                    baseline_id=query.baseline_id,
                    current_id=query.current_id,
                    window=min(window, quality.MAX_WINDOW),
                )
        except TestRun.DoesNotExist:
            raise Http404("No such finished suite of this policy.") from None
        except ApplicationError as error:
            context["empty"] = error.message
        return context
