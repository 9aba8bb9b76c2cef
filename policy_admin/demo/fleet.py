"""The demo's publishing side: version 1 on staging and production, a stricter version 2
shadowed on production, and a token for an agent."""

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from policy_admin.bundles import signing
from policy_admin.fleet.services import fleet_token_create, fleet_token_revoke
from policy_admin.models import FleetToken, Policy, PolicyVersion
from policy_admin.services.publishing import channel_promote, policy_publish
from policy_admin.services.rules import keyword_set_save
from policy_admin.services.sampling import sampling_save
from policy_admin.services.shadow import shadow_set

DEMO_AGENT = "demo agent"
DEMO_AUDIT_SHARE = 0.1
CHANNELS = ("staging", "production")
# The keyword sets that review in version 1 and block in the shadowed candidate: the demo
# traffic's drug and weapon prompts flip from review to block.
STRICTER = ("Drugs", "Weapons")
DEMO_SHADOW_RATE = 1.0


@dataclass(frozen=True)
class DemoFleet:
    """What the demo published and the one-time secret of its agent token."""

    version: PolicyVersion
    token: FleetToken
    secret: str
    shadow: PolicyVersion | None = None


def seed_fleet(*, policy: Policy, publisher, admin) -> DemoFleet:
    """Publish the policy's draft as the next version on staging and production, and issue a
    fresh `demo agent` token scoped to the policy (the previous demo tokens are revoked).

    The demo keeps a tenth of all decisions as its random audit sample (production keeps
    1% by default), so its few prompts a second soon give the quality page audit figures.
    """
    sampling_save(policy=policy, actor=publisher, audit_share=DEMO_AUDIT_SHARE, keep_blocks=True)
    version = policy_publish(
        policy=policy, actor=publisher, revision=policy.revision, note="Demo: first version"
    )
    for channel in CHANNELS:
        channel_promote(policy=policy, actor=publisher, channel=channel, number=version.number)
    live = FleetToken.objects.filter(tenant=policy.tenant, name=DEMO_AGENT, revoked_at=None)
    for old in live:
        fleet_token_revoke(token=old, actor=admin)
    token, secret = fleet_token_create(
        tenant=policy.tenant, actor=admin, name=DEMO_AGENT, policies=[policy]
    )
    return DemoFleet(version, token, secret, seed_shadow(policy=policy, publisher=publisher))


def seed_shadow(*, policy: Policy, publisher) -> PolicyVersion:
    """Make the draft stricter (the STRICTER sets block instead of review), publish it as the
    next version and shadow it on every production request, so that the demo agent's
    traffic shows flips on the channel's shadow page within a minute or two."""
    for keyword_set in policy.keyword_sets.filter(name__in=STRICTER).order_by("name"):
        policy.refresh_from_db(fields=["revision"])
        keyword_set_save(
            policy=policy, actor=publisher, revision=policy.revision,
            keyword_set=keyword_set, action="block",
        )  # fmt: skip
    policy.refresh_from_db(fields=["revision"])
    names = " and ".join(STRICTER)
    candidate = policy_publish(
        policy=policy, actor=publisher, revision=policy.revision,
        note=f"Demo: {names} block instead of review (shadowed on production)",
    )  # fmt: skip
    shadow_set(
        policy=policy, actor=publisher, channel="production", number=candidate.number,
        rate=DEMO_SHADOW_RATE,
    )  # fmt: skip
    return candidate


def _agent_parts(demo: DemoFleet, server: str, channel: str) -> tuple[Path, str, list[str]]:
    keys = ",".join(f"{k['kid']}={k['public_key']}" for k in signing.public_keys()["keys"])
    # One state folder per token: a re-seeded demo starts again at v1, which an agent that
    # kept the previous demo's v1 would rightly refuse as other content under the same number.
    state = Path(settings.DATA_DIR) / "fleet-agent" / demo.token.token_prefix
    policy = demo.version.policy
    args = [
        sys.executable, "-m", "moderation.fleet", "--server", server,
        "--tenant", policy.tenant.slug, "--policy", policy.slug, "--channel", channel,
        "--state-dir", str(state), "--trusted-key-list", keys,
        "--instance-id", "demo-gpu-1", "--label", "region=demo", "--poll-interval", "5",
    ]  # fmt: skip
    env = f"FLEET_TOKEN={shlex.quote(demo.secret)} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1"
    return Path(settings.BASE_DIR), env, args


def agent_command(*, demo: DemoFleet, server: str, channel: str = "production") -> str:
    """The shell command that runs the fleet agent against `server` with the demo token."""
    root, env, args = _agent_parts(demo, server, channel)
    return f"cd {shlex.quote(str(root))} && {env} {shlex.join(args)}"


def agent_script(*, demo: DemoFleet, server: str, channel: str = "production") -> str:
    """The same command as a bash script whose process becomes the agent (exec)."""
    root, env, args = _agent_parts(demo, server, channel)
    return (
        f"#!/usr/bin/env bash\nset -e\ncd {shlex.quote(str(root))}\n"
        f"export {env}\nexec {shlex.join(args)}\n"
    )
