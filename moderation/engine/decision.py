"""Actions, per-rule results and the decision the engine returns."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

RuleKind = Literal["keyword", "embedding", "concept", "category", "classifier", "condition"]


@functools.total_ordering
class Action(enum.Enum):
    """The action ladder: allow < flag < review < block."""

    ALLOW = "allow"
    FLAG = "flag"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Action):
            return NotImplemented
        return self.rank < other.rank

    @classmethod
    def parse(cls, value: str) -> Action:
        """Return the action named `value`; raises ValueError listing the valid names."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(a.value for a in cls)
            raise ValueError(f"unknown action {value!r}; use one of {names}") from None


# The ladder's order is the order of definition: every rank and comparison derives from it.
_RANKS = {action: rank for rank, action in enumerate(Action)}
# The ladder's names, least strict first: what stored actions and expected actions hold.
ACTIONS: tuple[str, ...] = tuple(action.value for action in Action)


@dataclass(frozen=True)
class RuleResult:
    """How one rule judged one input: score against threshold, and why."""

    kind: RuleKind
    rule_id: str
    rule_name: str
    modality: Literal["prompt", "image"]
    action: Action  # the action this rule takes when it fires
    fired: bool
    score: float
    threshold: float | None  # None for keyword rules, which fire on any match
    explanation: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "kind": self.kind,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "modality": self.modality,
            "action": self.action.value,
            "fired": self.fired,
            "score": self.score,
            "threshold": self.threshold,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Stamp:
    """Which policy version (and exact bundle bytes) produced a decision."""

    tenant: str
    policy: str
    version: int | None  # None when a draft was evaluated
    revision: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "tenant": self.tenant,
            "policy": self.policy,
            "version": self.version,
            "revision": self.revision,
            "sha256": self.sha256,
        }


def final_action(results: Iterable[RuleResult]) -> Action:
    """Return the highest action among fired rules, allow when none fired."""
    return max((r.action for r in results if r.fired), default=Action.ALLOW)


@dataclass(frozen=True)
class Decision:
    """The engine's verdict on one input, with every rule's result and the stamp."""

    action: Action
    results: tuple[RuleResult, ...]
    timings_ms: dict[str, float]
    stamp: Stamp
    # False when an uncalibrated (random-initialised) CLIP backbone contributed.
    calibrated: bool = True

    @classmethod
    def from_results(
        cls,
        results: Iterable[RuleResult],
        *,
        timings_ms: dict[str, float],
        stamp: Stamp,
        calibrated: bool = True,
    ) -> Decision:
        """Build a decision whose action is the highest action of every fired rule."""
        results = tuple(results)
        return cls(final_action(results), results, dict(timings_ms), stamp, calibrated)

    @property
    def fired(self) -> tuple[RuleResult, ...]:
        """The results of the rules that fired."""
        return tuple(r for r in self.results if r.fired)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "action": self.action.value,
            "calibrated": self.calibrated,
            "stamp": self.stamp.as_dict(),
            "timings_ms": dict(self.timings_ms),
            "results": [r.as_dict() for r in self.results],
        }
