"""The serving side of shadow evaluation: drawing the sample, handing it over, and counting
on the serving thread what needs nothing judged (moderation/fleet/shadow.py has the rest)."""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from moderation.engine.delta import DeltaPlan
from moderation.fleet.served import Active, Served, ServedBatch, Shadow

log = logging.getLogger("moderation.fleet.shadow")

# Requests counted together on a serving thread (ServingSide._inline): few enough that they
# wait no longer than a few milliseconds at a 10% shadow of a busy agent.
INLINE_BATCH = 16


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
    _skip: int
    _skip_for: Shadow | None
    _clock: Callable[[], float]
    _plans: dict[tuple[str, str], DeltaPlan]
    _last_pair: tuple[Any, Any, Any]
    _count_lock: threading.Lock
    _inline_counts: dict
    _inline_pending: deque
    _flip_kept: Callable[[int], bool]
    _keep_flip: Callable[..., None]

    def pick(self, shadow: Shadow, n: int) -> Sequence[int] | None:
        """The rows of a batch of `n` requests to shadow, drawn at the shadow's rate before
        they are judged; None when none is (or the queue is full: counted).

        Below 100%, the draw is of the gap to the next sampled request (geometric, so each
        request is still sampled with probability `rate`, independently): a request that
        is not sampled costs one subtraction, not a random number. Serving threads may race
        on the gap; that shifts which requests are sampled, not the rate.
        """
        left = self._skip - n
        if left >= 0 and shadow is self._skip_for:
            self._skip = left  # none of these n: the common case at a low rate
            return None
        rate = shadow.rate
        if n <= 0 or rate <= 0:
            return None
        if rate >= 1:
            rows: Sequence[int] = range(n)
        else:
            if shadow is not self._skip_for:  # another shadow or rate: its own gaps
                self._skip_for, self._skip = shadow, self._gap(rate)
            picked, i = [], self._skip
            while i < n:
                picked.append(i)
                i += 1 + self._gap(rate)
            self._skip = i - n
            if not picked:
                return None
            rows = picked
        if len(self._jobs) >= self.max_queue:
            self.queue_full += len(rows)
            return None
        return rows

    def _gap(self, rate: float) -> int:
        """Requests passed over before the next sampled one: geometric with success `rate`."""
        return int(math.log(1.0 - self._draw()) / math.log1p(-rate))

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
        """Count the rows on serving threads when the candidate judges nothing itself;
        False otherwise (the shadow's thread judges them).

        A plan that runs no rule (every candidate result reused or relabelled) gives each
        outcome in a few lookups on the enforced results (DeltaPlan.outcome): cheaper on
        the threads that served them than handing them to another thread (whose touching
        the same objects from another core costs serving more than the lookups). They wait
        in a short deque and are counted INLINE_BATCH at a time, in one loop under one lock:
        the same work, done while its code and data are warm, costs a third of what it
        does once per request between other requests.
        """
        known = self._known(served.active, shadow)
        if known is None or known[0].delta is not None:
            return False
        pending = self._inline_pending
        pending.append((shadow, served, rows, now, known))
        if len(pending) >= INLINE_BATCH:
            self.count_pending()
        return True

    def count_pending(self) -> None:
        """Count what waits in the inline deque (serving threads, and before stats or a
        batch of the decision log)."""
        pending = self._inline_pending
        with self._count_lock:
            counts = self._inline_counts
            while pending:
                shadow, served, rows, now, (plan, (version, shadow_version)) = pending.popleft()
                minute, decisions, flipped = int(now // 60), served.decisions, []
                # The counting of ShadowEvaluator._record, inlined: this loop is serving's.
                for i in rows:
                    enforced = decisions[i]
                    action, differing = plan.outcome(enforced)
                    e_action, s_action = enforced.action._value_, action._value_
                    key = (minute, version, shadow_version, e_action, s_action, "")
                    counts[key] = counts.get(key, 0) + 1
                    for rule_id in differing:
                        key = (minute, version, shadow_version, e_action, s_action, rule_id)
                        counts[key] = counts.get(key, 0) + 1
                    if e_action != s_action:
                        flipped.append(i)
                self.shadowed += len(rows)
                self.flips += len(flipped)
                for i in flipped:
                    if self._flip_kept(minute):
                        item, enforced = served.items[i], decisions[i]
                        decision = plan.decisions([item], [enforced], models=self.agent.models)[0]
                        self._keep_flip(shadow, served.served(i, memo=False), decision, now)

    def flush_counts(self) -> None:
        """Hand what serving threads counted to the decision log (it calls this before it
        builds batches: DecisionLog.count_sources)."""
        self.count_pending()
        with self._count_lock:
            counts, self._inline_counts = self._inline_counts, {}
        if counts and self.decision_log is not None:
            self.decision_log.add_shadow_counts(counts)

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
