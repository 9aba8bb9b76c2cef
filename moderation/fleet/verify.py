"""Everything a bundle must pass before it may become active, in the order that is safe.

Digest first (the bytes are what the server vouched for), then the signature (they come
from a trusted key), and only then is anything parsed: untrusted bytes never reach the
parser. Then scope, anti-rollback and model pins. The first failure raises `Refused`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from moderation.engine.compiled import CompiledBundle, load_bundle
from moderation.engine.errors import EngineError
from moderation.engine.models.base import PinMismatch
from moderation.engine.providers import ModelProvider
from moderation.fleet.keys import TrustedKeys
from moderation.fleet.refusal import Refused


@dataclass(frozen=True)
class Scope:
    """What this agent asked for: the bundle must name this policy (and tenant, if set)."""

    policy: str
    channel: str
    tenant: str | None = None


@dataclass(frozen=True)
class Candidate:
    """Bytes and the claims that came with them (from the server, or from the state dir)."""

    body: bytes
    sha256: str | None
    version: int | None
    signatures: str | None
    etag: str | None = None


def verify_digest(candidate: Candidate) -> str:
    """Return the body's sha256 when it equals the advertised one (and the ETag), else refuse."""
    actual = hashlib.sha256(candidate.body).hexdigest()
    where = {"version": candidate.version, "sha256": candidate.sha256}
    if not candidate.sha256:
        raise Refused("digest_mismatch", "the response names no sha256 (ETag, X-Bundle-Sha256)")
    for claim, label in ((candidate.sha256, "X-Bundle-Sha256"), (candidate.etag, "ETag")):
        if claim is not None and not hmac.compare_digest(actual, claim):
            raise Refused(
                "digest_mismatch",
                f"{label} says sha256 {claim} but the {len(candidate.body)} bytes received hash "
                f"to {actual}; the bundle was altered or truncated in transit",
                **where,
            )
    return actual


def verify_candidate(
    candidate: Candidate,
    *,
    keys: TrustedKeys,
    scope: Scope,
    models: ModelProvider,
    active: CompiledBundle | None,
) -> CompiledBundle:
    """Return the compiled bundle when every check passes; raise Refused with the first failure."""
    sha256 = verify_digest(candidate)
    keys.verify(candidate.body, candidate.signatures, version=candidate.version, sha256=sha256)
    compiled = _parse(candidate, sha256)
    where = {"version": compiled.bundle.policy.version, "sha256": sha256}
    check_scope(compiled, scope, candidate.version, where)
    check_rollback(compiled, active, where)
    try:
        models.check_pins(compiled.bundle.pins)
    except PinMismatch as exc:
        raise Refused("pin_mismatch", str(exc), **where) from None
    except (OSError, ValueError) as exc:
        message = f"cannot establish which models this process loaded: {exc}"
        raise Refused("pin_mismatch", message, **where) from None
    return compiled


def _parse(candidate: Candidate, sha256: str) -> CompiledBundle:
    try:
        return load_bundle(candidate.body, sha256=sha256)
    except (EngineError, ValueError, KeyError, TypeError) as exc:
        raise Refused(
            "invalid_bundle",
            f"the signed bytes are not a valid bundle: {exc}",
            version=candidate.version,
            sha256=sha256,
        ) from None


def check_scope(compiled: CompiledBundle, scope: Scope, header_version: int | None, where) -> None:
    """Refuse a bundle of another policy or tenant, a draft, or one whose version header lies."""
    policy = compiled.bundle.policy
    if policy.slug != scope.policy:
        problem = f"it is a bundle of policy {policy.slug!r}, this agent runs {scope.policy!r}"
    elif scope.tenant is not None and policy.tenant != scope.tenant:
        problem = f"it belongs to tenant {policy.tenant!r}, this agent runs {scope.tenant!r}"
    elif policy.version is None:
        problem = "it is a draft (no version number); only published versions are served"
    elif header_version is not None and header_version != policy.version:
        problem = f"X-Bundle-Version says {header_version} but the bundle is v{policy.version}"
    else:
        return
    raise Refused(
        "scope_mismatch", f"refused for {scope.policy}/{scope.channel}: {problem}", **where
    )


def check_rollback(compiled: CompiledBundle, active: CompiledBundle | None, where) -> None:
    """Refuse a version below the active one, or the active version with other content."""
    if active is None:
        return
    new, old = compiled.bundle.policy.version, active.bundle.policy.version
    if old is None or new is None:
        return
    if new < old:
        problem = f"v{new} is older than the active v{old}"
    elif new == old and compiled.sha256 != active.sha256:
        problem = f"v{new} has other content than the active v{old} (sha256 {active.sha256[:12]}…)"
    else:
        return
    raise Refused(
        "rollback",
        f"{problem}; versions never go down (a rollback is published as a new, higher version)",
        **where,
    )
