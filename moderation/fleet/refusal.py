"""Why the agent refused a bundle: a reason code for machines and a message for people."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

REASONS = (
    "digest_mismatch",  # the bytes do not hash to the advertised sha256 (tampered, truncated)
    "bad_signature",  # no signature from a trusted key verifies over the bytes
    "unknown_key",  # every signature names a key id this agent does not trust
    "scope_mismatch",  # another tenant's or policy's bundle, or a draft
    "rollback",  # older than the active version, or the same version with other content
    "pin_mismatch",  # the bundle relies on models this process did not load
    "invalid_bundle",  # the bytes are not a valid canonical bundle
    "http_error",  # the server could not be reached or answered with an error
    "persist_failed",  # the bundle could not be written to the state directory
)

# Refusals that depend only on the bytes (and this process's fixed configuration), so the
# same sha256 would be refused again: it is remembered and never verified twice. Transport
# failures are not: the next download may well be intact.
CONTENT_REASONS = frozenset(
    {"bad_signature", "unknown_key", "scope_mismatch", "rollback", "pin_mismatch", "invalid_bundle"}
)


class Refused(Exception):
    """A bundle (or a fetch) that must not become active; carries a reason code."""

    def __init__(
        self, reason: str, message: str, *, version: int | None = None, sha256: str | None = None
    ) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}; use one of {', '.join(REASONS)}")
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.version = version
        self.sha256 = sha256

    def record(self) -> Rejection:
        """Return the rejection record reported to the server and on /healthz."""
        return Rejection(self.reason, self.message, self.version, self.sha256)


@dataclass(frozen=True)
class Rejection:
    """The last bundle the agent refused, as the status report carries it."""

    reason: str
    message: str
    version: int | None = None
    sha256: str | None = None
    at: float = field(default_factory=time.time)

    @property
    def remembered(self) -> bool:
        """Whether this refusal is about the content, so its sha256 is never verified again."""
        return self.reason in CONTENT_REASONS and self.sha256 is not None

    def as_dict(self) -> dict[str, Any]:
        """Return the contract's `last_rejected` object."""
        return {
            "version": self.version,
            "sha256": self.sha256,
            "reason": self.reason,
            "message": self.message,
        }
