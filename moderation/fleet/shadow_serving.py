"""The serving side of shadow evaluation: drawing the sample, handing it over, and counting
on the serving thread what needs nothing judged (moderation/fleet/shadow.py has the rest)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from moderation.engine.delta import DeltaPlan
from moderation.fleet.served import Active, Served, ServedBatch, Shadow

log = logging.getLogger("moderation.fleet.shadow")


class ServingSide:
    """ShadowEvaluator's methods that serving threads call (state set up in its __init__)."""

    agent: Any
    decision_log: Any
    chunk: int
    max_queue: int
    sampled: int
    shadowed: int
    flips: int
    queue_full: int
    observer_errors: int
    _jobs: deque
    _wake: threading.Event
    _idle: bool
    _lingering: bool
    _draw: Callable[[], float]
    _clock: Callable[[], float]
    _plans: dict[tuple[str, str], DeltaPlan]
    _last_pair: tuple[Any, Any, Any]
    _count_lock: threading.Lock
    _flip_kept: Callable[[int], bool]
    _keep_flip: Callable[..., None]

    def pick(self, shadow: Shadow, n: int) -> Sequence[int] | None:
        """The rows of a batch of `n` requests to shadow, drawn at the shadow's rate before
        they are judged; None when none is (or the queue is full: counted)."""
        rate = shadow.rate
        if n <= 0 or rate <= 0:
            return None
        if rate >= 1:
            rows: Sequence[int] = range(n)
        elif n == 1:
            if self._draw() >= rate:
                return None
            rows = (0,)
        else:
            draw = self._draw
            rows = [i for i in range(n) if draw() < rate]
            if not rows:
                return None
        if len(self._jobs) >= self.max_queue:
            self.queue_full += len(rows)
            return None
        return rows

    def take(self, shadow: Shadow, served: ServedBatch, rows: Sequence[int]) -> None:
        """Queue the picked rows of a served batch for the shadow; O(1), never raises."""
        try:
            now = self._clock()
            self.sampled += len(rows)
            if self._inline(shadow, served, rows, now):
                return
            jobs = self._jobs
            jobs.append((shadow, served, rows, now))
            if self._idle or (self._lingering and len(jobs) >= self.chunk):
                self._idle = self._lingering = False
                self._wake.set()
        except Exception:
            self.observer_errors += 1
            log.exception("shadow hand-over failed; the decision was served")

    def known_plan(self, active: Active, shadow: Shadow) -> DeltaPlan | None:
        """The delta plan of this pair if it was made already (by the thread), else None."""
        known = self._known(active, shadow)
        return known[0] if known is not None else None

    def _known(self, active: Active, shadow: Shadow) -> tuple[DeltaPlan, tuple] | None:
        # The plan and the (enforced, shadow) versions of a pair whose plan exists.
        last = self._last_pair  # one reference read: serving threads share it
        if active is last[0] and shadow is last[1]:
            return last[2]
        plan = self._plans.get((active.sha256, shadow.sha256))
        if plan is None:
            return None
        known = (plan, (active.version, shadow.version))
        self._last_pair = (active, shadow, known)
        return known

    def needs_outputs(self, active: Active, shadow: Shadow) -> bool:
        """Whether judging for this pair may read model outputs (so serving records them)."""
        plan = self.known_plan(active, shadow)
        return plan is None or plan.delta is not None

    def _inline(self, shadow: Shadow, served: ServedBatch, rows: Sequence[int], now: float) -> bool:
        """Count the rows now when the candidate judges nothing itself; False otherwise.

        A plan that runs no rule (every candidate result reused or relabelled) gives each
        outcome in a few lookups on the enforced results (DeltaPlan.outcome): cheaper here,
        on the thread that served them, than handing the batch to another thread (whose
        touching the same objects from another core costs serving more than the lookups).
        """
        known = self._known(served.active, shadow)
        if known is None or known[0].delta is not None:
            return False
        plan, versions = known
        minute, decisions, outcome = int(now // 60), served.decisions, plan.outcome
        head = (minute, *versions)
        keys, flipped = [], []
        for i in rows:
            enforced = decisions[i]
            action, differing = outcome(enforced)
            e_action, s_action = enforced.action._value_, action._value_
            keys.append((*head, e_action, s_action, ""))
            if differing:
                keys += [(*head, e_action, s_action, rule_id) for rule_id in differing]
            if e_action != s_action:
                flipped.append(i)
        if self.decision_log is not None:
            self.decision_log.count_shadow(keys)
        with self._count_lock:
            self.shadowed += len(rows)
            self.flips += len(flipped)
            for i in flipped:
                if self._flip_kept(minute):
                    item, enforced = served.items[i], decisions[i]
                    decision = plan.decisions([item], [enforced], models=self.agent.models)[0]
                    self._keep_flip(shadow, served.served(i, memo=False), decision, now)
        return True

    def observe(self, served: Sequence[Served]) -> None:
        """Sample served decisions given as `Served` (callers other than the agent, tests)."""
        try:
            shadow = self.agent.shadow
            if shadow is None or shadow.rate <= 0:
                return
            live = [s for s in served if s.active.version is not None]
            rows = self.pick(shadow, len(live)) if live else None
            for i in rows or ():
                s = live[i]
                batch = ServedBatch(s.active, (s.decision,), (s.item,), (s.request_id,),
                                    (s.image_bytes,), (s.memo,))  # fmt: skip
                self.take(shadow, batch, (0,))
        except Exception:
            self.observer_errors += 1
            log.exception("shadow observer failed; the decision was served")
