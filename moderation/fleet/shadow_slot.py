"""The agent's shadow slot: the candidate its channel names, verified like the enforced bundle.

Nothing about the shadow (a refusal, a failed fetch, its absence) ever changes the enforced
bundle; the slot keeps its own anti-rollback floor and refusal memory (FleetAgent docstring).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from moderation.engine.compiled import CompiledBundle
from moderation.fleet.client import FleetClient, ShadowRef
from moderation.fleet.refusal import Refused, Rejection
from moderation.fleet.served import Active, Shadow
from moderation.fleet.verify import Candidate, Scope

log = logging.getLogger("moderation.fleet")


class ShadowSlot:
    """FleetAgent's part that follows, verifies and samples for the shadow."""

    client: FleetClient
    scope: Scope
    shadow_eval: Any
    shadow_refused: dict[str, Rejection]
    last_shadow_rejected: Rejection | None
    _lock: threading.Lock
    _shadow: Shadow | None
    _shadow_floor: CompiledBundle | None

    @property
    def shadow(self) -> Shadow | None:
        """The verified candidate being shadowed, or None."""
        with self._lock:
            return self._shadow

    def _shadow_pick(self, active: Active, n: int) -> tuple[Shadow, Sequence[int]] | None:
        """The shadow and the rows of a batch of `n` it samples, or None (the common case)."""
        shadow_eval, shadow = self.shadow_eval, self._shadow  # one reference read each
        if shadow_eval is None or shadow is None or active.version is None:
            return None  # the fleet never serves drafts: there is nothing to compare them by
        rows = shadow_eval.pick(shadow, n)
        return None if rows is None else (shadow, rows)

    def _follow_shadow(self, ref: ShadowRef | None) -> tuple[bool, Rejection | None]:
        """Hold the shadow the channel names (fetched and verified), or none; never raises.

        Return whether the shadow slot changed and the refusal, if the named one was refused.
        """
        held = self.shadow
        if ref is None:
            self.last_shadow_rejected = None
            return self._set_shadow(None), None
        if held is not None and held.sha256 == ref.sha256:
            if held.rate != ref.rate:
                self._set_shadow(Shadow(held.compiled, ref.rate, held.activated_at))
            return False, None
        known = self.shadow_refused.get(ref.sha256)
        if known is not None:
            self.last_shadow_rejected = known
            return self._set_shadow(None), None
        try:
            compiled = self._fetch_shadow(ref)
        except Refused as exc:
            record = exc.record()
            if record.sha256 is None:
                record = Rejection(record.reason, record.message, ref.version, ref.sha256)
            if record.remembered:
                self.shadow_refused[record.sha256] = record
            self.last_shadow_rejected = record
            log.warning("shadow v%s refused: %s: %s", ref.version, exc.reason, exc.message)
            # What is held is no longer what the channel names: shadow nothing meanwhile.
            self._set_shadow(None)
            return True, record
        self._shadow_floor = compiled
        self.last_shadow_rejected = None
        self._set_shadow(Shadow(compiled, ref.rate, time.time()))
        log.info("shadowing v%s (%s) at %g", ref.version, ref.sha256[:12], ref.rate)
        return True, None

    def _fetch_shadow(self, ref: ShadowRef) -> CompiledBundle:
        download = self.client.fetch_version(self.scope.policy, ref.version)
        # The bytes must hash to what the channel named AND to what the version URL says.
        candidate = Candidate(
            download.body, ref.sha256, ref.version, download.signatures, download.sha256
        )
        return self._verify(candidate, active=self._shadow_floor)

    def _set_shadow(self, shadow: Shadow | None) -> bool:
        with self._lock:
            changed = (self._shadow is None) != (shadow is None) or (
                shadow is not None and self._shadow is not None
                and shadow.sha256 != self._shadow.sha256
            )  # fmt: skip
            self._shadow = shadow
        return changed
