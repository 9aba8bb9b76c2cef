"""What the agent tells: its status report, and what /healthz shows (docs/fleet-agent.md)."""

from __future__ import annotations

import logging
from typing import Any

from moderation.fleet.refusal import Refused

log = logging.getLogger("moderation.fleet")


class AgentReports:
    """FleetAgent's reporting side; it reads the agent's state and never changes what it serves."""

    def model_pins(self) -> dict[str, dict[str, str]]:
        """The pins of the models this process loaded (computed once: they do not change)."""
        if self._model_pins is None:
            self._model_pins = {n: p.as_dict() for n, p in sorted(self.models.pins().items())}
        return self._model_pins

    def status_payload(self) -> dict[str, Any]:
        """Return the POST /api/v1/fleet/status body of the contract."""
        active = self.active
        rejected = self.last_rejected
        bundle = {
            "policy": self.scope.policy,
            "channel": self.scope.channel,
            "version": active.version if active else None,
            "sha256": active.sha256 if active else None,
            "last_rejected": rejected.as_dict() if rejected else None,
        }
        shadow = self.shadow_state()
        if shadow is not None:
            bundle["shadow"] = shadow
        return {
            "instance_id": self.instance_id,
            "labels": dict(self.labels),
            "bundles": [bundle],
            "models": self.model_pins(),
        }

    def shadow_state(self) -> dict[str, Any] | None:
        """The shadow slot as reports and /healthz show it; None: none held, none refused."""
        shadow, rejected = self.shadow, self.last_shadow_rejected
        if shadow is None and rejected is None:
            return None
        return {
            "version": shadow.version if shadow else None,
            "sha256": shadow.sha256 if shadow else None,
            "rate": shadow.rate if shadow else None,
            "last_rejected": rejected.as_dict() if rejected else None,
        }

    def report(self) -> bool:
        """Send a status report; a failure is logged and kept in last_report_error, never raised."""
        try:
            self.client.post_status(self.status_payload())
        except Refused as exc:
            log.warning("status report not delivered: %s", exc.message)
            self.last_report_error = exc.message
            return False
        self.last_report_error = None
        self.reports_sent += 1
        return True

    def health(self) -> dict[str, Any]:
        """Return what /healthz shows: active bundle, last poll, error, refusal, decision log."""
        active = self.active
        rejected = self.last_rejected
        return {
            "status": "ok" if active else "no_bundle",
            "policy": self.scope.policy,
            "channel": self.scope.channel,
            "version": active.version if active else None,
            "sha256": active.sha256 if active else None,
            "failure_mode": active.failure_mode if active else None,
            "last_poll": self.last_poll,
            "last_error": self.last_error,
            "last_rejected": rejected.as_dict() if rejected else None,
            "last_report_error": self.last_report_error,
            "decision_log": self.decision_log.stats() if self.decision_log is not None else None,
            "shadow": self.shadow_state(),
            "shadow_eval": self.shadow_eval.stats() if self.shadow_eval is not None else None,
        }
