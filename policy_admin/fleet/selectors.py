"""Fleet health: which state each server is in for the channels it reports."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from policy_admin.models import Channel, FleetInstance
from policy_admin.selectors.publishing import RolloutRow, stale_after
from tenants.models import Tenant
from tenants.scoping import scoped

# From best to worst; a server with several channels counts in its worst one.
STATES = ("current", "behind", "rejecting", "stale")


def channel_state(*, sha256: str | None, rejected: dict | None, target: str | None) -> str:
    """`current` (runs the channel's version), `rejecting` (refused it) or `behind` (not yet)."""
    if target and sha256 == target:
        return "current"
    if target and (rejected or {}).get("sha256") == target:
        return "rejecting"
    return "behind"


def fleet_server_counts(*, now: datetime | None = None) -> dict[str, int]:
    """How many servers of every tenant together are in each state; stale after stale_after()."""
    cutoff = (now or timezone.now()) - stale_after()
    counts = dict.fromkeys(STATES, 0)
    for tenant in Tenant.objects.order_by("pk"):
        targets = {
            (policy, name): sha256
            for policy, name, sha256 in scoped(Channel, tenant).values_list(
                "policy__slug", "name", "version__sha256"
            )
        }
        for last_seen, bundles in scoped(FleetInstance, tenant).values_list("last_seen", "bundles"):
            counts[_server_state(last_seen, bundles, targets, cutoff)] += 1
    return counts


def _server_state(last_seen, bundles: list[dict], targets: dict, cutoff) -> str:
    if last_seen < cutoff:
        return "stale"
    states = [
        channel_state(
            sha256=b.get("sha256"),
            rejected=b.get("last_rejected"),
            target=targets.get((b.get("policy"), b.get("channel"))),
        )
        for b in bundles
    ]
    return max(states or ["behind"], key=STATES.index)


@dataclass(frozen=True)
class RolloutSummary:
    """A channel's servers counted by state, as the rollout page and the fleet metrics see them."""

    servers: int
    current: int
    behind: int
    rejecting: int
    stale: int

    @property
    def healthy(self) -> bool:
        return self.servers > 0 and self.current == self.servers


def rollout_summary(*, channel: Channel, rows: list[RolloutRow]) -> RolloutSummary:
    """How many of channel_rollout's servers are in each state; a stale server counts as stale."""
    target = channel.version.sha256 if channel.version_id else None
    states = [
        "stale"
        if row.stale
        else channel_state(sha256=row.sha256, rejected=row.rejected, target=target)
        for row in rows
    ]
    return RolloutSummary(servers=len(rows), **{state: states.count(state) for state in STATES})
