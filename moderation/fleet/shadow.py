"""Shadow evaluation: judge a sample of served requests with the candidate the channel names.

Guarantees:
- The caller's answer never waits on the shadow: the agent asks `pick()` which requests of a
  batch to shadow before judging it (so an unsampled request records no model outputs),
  then hands the picked rows of the served batch to `take()`, which appends them to a
  bounded queue; a background thread builds what it needs from them and judges them with
  the shadow. A full queue or a failed evaluation is counted (stats()), never raised into
  serving.
- Per minute, what is counted goes up with the decision log's batches (`shadow_counts`):
  every shadowed request by enforced action x shadow action (rule_id ""), and, per rule that
  came out differently in the two versions (fired in one only, or with another action), the
  requests on which it did. Requests whose action flipped become full records with the
  reason `shadow_flip` (at most `flips_per_minute`; the rest are only counted).

The candidate reuses the model outputs the enforced run computed (check_batch and the staged
path's stages record them, moderation/engine/recording.py) and calls the models only for
what it alone needs, counted in stats(). Only the candidate's rules that differ from the
enforced bundle's are judged; the others' results are the enforced decision's
(moderation/engine/delta.py; docs/fleet-agent.md "Shadow").
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from moderation.engine.compiled import CompiledBundle
from moderation.engine.decision import Decision
from moderation.engine.delta import DeltaPlan
from moderation.engine.recording import ReplayingModels
from moderation.fleet.agent import FleetAgent, Served, Shadow
from moderation.fleet.decision_records import Kept, kept_size
from moderation.fleet.served import ServedBatch
from moderation.fleet.shadow_results import (
    CountKey,
    ShadowJob,
    differing_rules,
    merged_jobs,
    shadow_of,
)

log = logging.getLogger("moderation.fleet.shadow")

__all__ = ["ShadowEvaluator", "differing_rules", "shadow_of"]


class ShadowEvaluator:
    """Observer of a FleetAgent that judges sampled requests with its shadow, off the hot path."""

    LINGER = 0.05  # seconds the thread waits for more requests before judging (see _run)
    CHUNK = 64  # requests judged per engine call, the lock offered to serving in between

    def __init__(
        self,
        agent: FleetAgent,
        decision_log: Any,
        *,
        max_queue: int = 1024,
        flips_per_minute: int = 60,
        linger: float | None = None,
        chunk: int | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.agent = agent
        self.decision_log = decision_log
        self.flips_per_minute = max(0, flips_per_minute)
        self.linger = max(0.0, self.LINGER if linger is None else linger)
        self.chunk = max(1, self.CHUNK if chunk is None else chunk)  # per engine call
        self._rng = rng or random.Random()
        self._clock = clock
        self.max_queue = max(1, max_queue)
        # What serving handed over, not yet judged: (shadow, served batch or Served tuple,
        # picked rows or None for all, served at). Appends and pops are atomic; the thread
        # is woken only when it waits (`_idle`), so serving rarely touches the Event.
        self._jobs: deque[tuple[Shadow, Any, Sequence[int] | None, float]] = deque()
        self._wake = threading.Event()
        self._idle = False
        self._busy = False  # the thread holds jobs it took and has not finished
        self._stopping = False
        self._draw = self._rng.random
        self._thread: threading.Thread | None = None
        self._flip_minute: int | None = None
        self._flips_this_minute = 0
        self.sampled = 0  # requests handed to the queue
        self.shadowed = 0  # requests judged by the shadow and counted
        self.flips = 0
        self.flips_kept = 0
        self.queue_full = 0  # requests not shadowed: the queue was full
        self.failures = 0  # requests whose shadow evaluation failed
        self.observer_errors = 0
        # Model work of the candidate: inputs answered from the enforced run's outputs, and
        # the calls (and their inputs) it needed the models for itself.
        self.replayed_inputs = 0
        self.extra_model_calls = 0
        self.extra_model_inputs = 0
        self.last_error: str | None = None
        # The candidate's rules judged per request (the others' results are the enforced
        # run's: moderation/engine/delta.py), for the pair last judged.
        self.rules_run: int | None = None
        self._plans: dict[tuple[str, str], DeltaPlan] = {}

    def attach(self) -> ShadowEvaluator:
        """Let the agent hand this evaluator its sampled requests; show its stats in health()."""
        self.agent.shadow_eval = self
        return self

    # --- serving side -------------------------------------------------------------------

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
            self._jobs.append((shadow, served, rows, self._clock()))
            self.sampled += len(rows)
            if self._idle:
                self._idle = False
                self._wake.set()
        except Exception:
            self.observer_errors += 1
            log.exception("shadow hand-over failed; the decision was served")

    def observe(self, served: Sequence[Served]) -> None:
        """Sample served decisions given as `Served` (callers other than the agent, tests)."""
        try:
            shadow = self.agent.shadow
            if shadow is None or shadow.rate <= 0:
                return
            live = [s for s in served if s.active.version is not None]
            rows = self.pick(shadow, len(live)) if live else None
            if rows is None:
                return
            self._jobs.append((shadow, tuple(live[i] for i in rows), None, self._clock()))
            self.sampled += len(rows)
            if self._idle:
                self._idle = False
                self._wake.set()
        except Exception:
            self.observer_errors += 1
            log.exception("shadow observer failed; the decision was served")

    # --- background side ----------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Start the evaluation thread (a daemon); `stop()` drains the queue and ends it."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="fleet-shadow", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """Judge what is queued, then end the thread."""
        if self._thread is None:
            return
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        # Jobs that queued up meanwhile are judged together: one engine call for a chunk of
        # them (fewer calls, fewer switches with the serving threads).
        while True:
            if not self._jobs:
                if self._stopping:
                    return
                self._idle = True
                # A job appended between the test above and `_idle` finds no one to wake:
                # the timeout picks it up.
                self._wake.wait(0.5)
                self._wake.clear()
                self._idle = False
                continue
            # Waking for every sampled request would take the interpreter lock from the
            # serving threads as often: wait `linger` seconds and judge what came meanwhile.
            if self.linger > 0 and not self._stopping:
                time.sleep(self.linger)
            self._busy = True
            try:
                for merged in merged_jobs(self._take_jobs(), self.chunk):
                    self.process(merged)
                    # Let the serving threads take the interpreter lock between chunks,
                    # rather than wait out the switch interval behind a long Python loop.
                    time.sleep(0)
            finally:
                self._busy = False

    def _take_jobs(self, most: int = 4096) -> list[ShadowJob]:
        """Pop what is queued (up to `most` hand-overs) as jobs of built `Served`s."""
        jobs = []
        while self._jobs and len(jobs) < most:
            shadow, source, rows, at = self._jobs.popleft()
            served = source if rows is None else tuple(source.served(i) for i in rows)
            jobs.append(ShadowJob(shadow, served, at))
        return jobs

    def join(self, poll: float = 0.001) -> None:
        """Wait until every queued request has been judged (benchmarks, tests)."""
        while self._jobs or self._busy:
            time.sleep(poll)

    def drain(self) -> None:
        """Judge everything queued on the calling thread (tests, benchmarks without a thread)."""
        while self._jobs:
            for job in self._take_jobs():
                self.process(job)

    def plan(self, enforced: CompiledBundle, candidate: CompiledBundle) -> DeltaPlan:
        """The delta plan of a pair of bundles, made once (the last few pairs are kept)."""
        key = (enforced.sha256, candidate.sha256)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= 4:
                self._plans.clear()
            plan = self._plans[key] = DeltaPlan(enforced, candidate)
        return plan

    def _judge(self, job: ShadowJob, models: ReplayingModels) -> list[Decision]:
        """The shadow's decisions, in order; runs of requests served by one bundle share a call."""
        decisions: list[Decision] = []
        start = 0
        while start < len(job.served):
            active = job.served[start].active
            end = start
            while end < len(job.served) and job.served[end].active is active:
                end += 1
            run = job.served[start:end]
            plan = self.plan(active.compiled, job.shadow.compiled)
            self.rules_run = plan.rules_run
            decisions += plan.decisions(
                [s.item for s in run], [s.decision for s in run], models=models
            )
            start = end
        return decisions

    def process(self, job: ShadowJob) -> None:
        """Judge one job with its shadow and hand counts and flips to the decision log."""
        memos = list({id(s.memo): s.memo for s in job.served if s.memo is not None}.values())
        models = ReplayingModels(self.agent.models, memos)
        try:
            decisions = self._judge(job, models)
        except Exception as exc:
            self.failures += len(job.served)
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("shadow v%s evaluation failed", job.shadow.version)
            return
        self.extra_model_calls += models.extra_calls
        self.extra_model_inputs += models.extra_inputs
        self.replayed_inputs += models.replayed
        minute = int(job.decided_at // 60)
        counts: dict[CountKey, int] = {}
        shadow_version = job.shadow.version
        times = job.times or (job.decided_at,) * len(job.served)
        seen_active, version = None, None
        for served, decision, at in zip(job.served, decisions, times, strict=True):
            enforced = served.decision
            if served.active is not seen_active:
                seen_active, version = served.active, served.active.version
            # ._value_: .value is a slower descriptor, run twice per request.
            e_action, s_action = enforced.action._value_, decision.action._value_
            key = (minute, version, shadow_version, e_action, s_action, "")
            counts[key] = counts.get(key, 0) + 1
            for rule_id in differing_rules(enforced, decision):
                key = (minute, version, shadow_version, e_action, s_action, rule_id)
                counts[key] = counts.get(key, 0) + 1
            if e_action != s_action:
                self.flips += 1
                self._keep_flip(job, served, decision, minute, at)
        self.shadowed += len(job.served)
        if self.decision_log is not None:
            self.decision_log.add_shadow_counts(counts)

    def _keep_flip(
        self, job: ShadowJob, served: Served, decision: Decision, minute: int, at: float
    ) -> None:
        if minute != self._flip_minute:
            self._flip_minute, self._flips_this_minute = minute, 0
        if self._flips_this_minute >= self.flips_per_minute or self.decision_log is None:
            return
        self._flips_this_minute += 1
        self.flips_kept += 1
        served = dataclasses.replace(served, memo=None)  # the record needs no model outputs
        kept = Kept(
            served, ("shadow_flip",), at, kept_size(served),
            shadow_of(job.shadow, decision),
        )  # fmt: skip
        self.decision_log.keep_shadow_flip(kept)

    def stats(self) -> dict[str, Any]:
        """Return what /healthz shows of shadow evaluation."""
        return {
            "queued": sum(
                len(rows) if rows is not None else len(source)
                for _, source, rows, _ in list(self._jobs)
            ),
            "sampled": self.sampled,
            "shadowed": self.shadowed,
            "flips": self.flips,
            "flips_kept": self.flips_kept,
            "queue_full": self.queue_full,
            "failures": self.failures,
            "observer_errors": self.observer_errors,
            "replayed_inputs": self.replayed_inputs,
            "extra_model_calls": self.extra_model_calls,
            "extra_model_inputs": self.extra_model_inputs,
            "rules_run": self.rules_run,
            "last_error": self.last_error,
        }
