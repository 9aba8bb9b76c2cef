"""The shadow guard: stop a shadow whose candidate blocks too much more than the enforced version.

Judged after each upload that brings shadow counts: once `guard_requests`
requests were shadowed in the running experiment and the candidate's block
rate exceeds the enforced one by more than `guard_points` percentage points,
the shadow is stopped (audited, actor: the guard). Alert rules of kind
`shadow_guard` fire on such a stop (moderation.services.alert_evaluators).
"""

import logging

from moderation.analysis.shadow import guard_tripped
from moderation.selectors.shadow import flip_matrix
from policy_admin.models import Channel
from policy_admin.services.shadow import shadow_stop
from tenants.scoping import scoped

log = logging.getLogger(__name__)


def shadow_guards_check(*, policy, channels: set[str]) -> list[str]:
    """Judge the guards of these channels of `policy`; return the channels it stopped."""
    stopped = []
    for channel in (
        scoped(Channel, policy.tenant)
        .filter(policy=policy, name__in=channels, shadow_version__isnull=False)
        .exclude(guard_points=None)
        .select_related("version", "shadow_version", "policy")
    ):
        matrix = flip_matrix(channel)
        if not guard_tripped(matrix, points=channel.guard_points, requests=channel.guard_requests):
            continue
        gap = matrix.block_gap_points()
        reason = (
            f"guard: v{channel.shadow_version.number} blocked {gap:.1f} points more than "
            f"v{channel.version.number} over {matrix.total} shadowed requests "
            f"(limit {channel.guard_points:g})"
        )
        shadow_stop(policy=policy, actor=None, channel=channel.name, reason=reason, by_guard=True)
        log.warning("stopped the shadow of %s/%s: %s", policy.slug, channel.name, reason)
        stopped.append(channel.name)
    return stopped
