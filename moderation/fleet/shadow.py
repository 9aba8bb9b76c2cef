"""Shadow evaluation: judge a sample of served requests with the candidate the channel names.

Guarantees:
- The caller's answer never waits on the shadow's judging: the agent asks `pick()` which
  requests of a batch to shadow before judging it (so an unsampled request records no model
  outputs), then hands the picked rows of the served batch to `take()`. When the candidate
  judges no rule itself (its results are the enforced ones, reused or relabelled), take()
  counts them on the spot in a few lookups, as the decision log counts every decision;
  otherwise it appends them to a bounded queue and a background thread judges them with
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
    Judged,
    ShadowJob,
    differing_rules,
    shadow_of,
)
from moderation.fleet.shadow_serving import ServingSide

log = logging.getLogger("moderation.fleet.shadow")

__all__ = ["ShadowEvaluator", "differing_rules", "shadow_of"]


class ShadowEvaluator(ServingSide):
    """Observer of a FleetAgent that judges sampled requests with its shadow, off the hot path."""

    LINGER = 0.05  # seconds the thread waits for more requests before judging (see _run)
    CHUNK = 256  # requests judged per engine call, the lock offered to serving in between

    def __init__(
        self,
        agent: FleetAgent,
        decision_log: Any,
        *,
        max_queue: int = 4096,
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
        # What serving handed over, not yet judged: (shadow, served batch, picked rows,
        # served at). Appends and pops are atomic; the thread
        # is woken only when it waits (`_idle`), so serving rarely touches the Event.
        self._jobs: deque[tuple[Shadow, ServedBatch, Sequence[int], float]] = deque()
        self._wake = threading.Event()
        self._idle = False
        self._lingering = False  # the thread waits for a chunk's worth (take() may wake it)
        self._busy = False  # the thread holds jobs it took and has not finished
        self._stopping = False
        self._draw = self._rng.random
        # Sampling below 100% (pick()): requests left before the next sampled one, and the
        # shadow (with its rate) those gaps were drawn for.
        self._skip = -1
        self._skip_for: Shadow | None = None
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
        # The pair last looked up and its plan (serving threads look it up per batch).
        self._last_pair: tuple[Any, Any, Any] = (None, None, None)
        # Counters and flips are written by serving threads (_inline) and the thread.
        self._count_lock = threading.Lock()
        # What take() counted on serving threads, until the log asks (flush_counts).
        self._inline_counts: dict[CountKey, int] = {}
        self._inline_pending: deque = deque()  # waiting to be counted (ServingSide._inline)
        if decision_log is not None:
            decision_log.count_sources.append(self.flush_counts)

    def attach(self) -> ShadowEvaluator:
        """Let the agent hand this evaluator its sampled requests; show its stats in health()."""
        self.agent.shadow_eval = self
        return self

    # --- background side ----------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Start the evaluation thread (a daemon); `stop()` drains the queue and ends it."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="fleet-shadow", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """Judge what is queued, then end the thread."""
        self.count_pending()
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
            # serving threads as often: wait up to `linger` seconds for a chunk's worth, and
            # judge what came meanwhile. Not longer: requests held past a few young
            # collections reach the old generation, whose full collections then cost every
            # request (measured: 13% of a 100% shadow's throughput at 50 ms).
            if self.linger > 0 and not self._stopping and len(self._jobs) < self.chunk:
                self._lingering = True
                self._wake.wait(self.linger)
                self._wake.clear()
                self._lingering = False
            self._busy = True
            try:
                for job in self._take_jobs():
                    self.process(job)
            finally:
                self._busy = False

    def _take_jobs(self, most: int = 4096) -> list[ShadowJob]:
        """Pop what is queued (up to `most` hand-overs) as jobs of one shadow and one minute,
        of at most `chunk` requests each, in order."""
        jobs: list[ShadowJob] = []
        taken = 0
        while self._jobs and taken < most:
            shadow, batch, rows, at = self._jobs.popleft()
            taken += 1
            minute = int(at // 60)
            for i in rows:
                job = jobs[-1] if jobs else None
                if (
                    job is None
                    or job.shadow is not shadow
                    or job.minute != minute
                    or len(job.rows) >= self.chunk
                ):
                    job = ShadowJob(shadow, minute, [])
                    jobs.append(job)
                job.rows.append((batch, i, at))
        return jobs

    def join(self, poll: float = 0.001) -> None:
        """Wait until every queued request has been judged (benchmarks, tests)."""
        self.count_pending()
        while self._jobs or self._busy:
            time.sleep(poll)

    def drain(self) -> None:
        """Judge everything queued on the calling thread (tests, benchmarks without a thread)."""
        self.count_pending()
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

    def _judge(self, job: ShadowJob, models: ReplayingModels) -> list[Judged]:
        """The shadow's outcome per request, in order; runs served by one bundle share a call.

        A plan that runs no rule gives each request's action and differing rules straight
        from the enforced results (DeltaPlan.outcomes); its decision is built only for a
        flip that becomes a record.
        """
        judged: list[Judged] = []
        rows, start = job.rows, 0
        while start < len(rows):
            active = rows[start][0].active
            end = start
            while end < len(rows) and rows[end][0].active is active:
                end += 1
            run = rows[start:end]
            plan = self.plan(active.compiled, job.shadow.compiled)
            self.rules_run = plan.rules_run
            enforced = [batch.decisions[i] for batch, i, _ in run]
            outcomes = plan.outcomes(enforced)
            if outcomes is not None:
                judged += [(action, differing, None, plan) for action, differing in outcomes]
            else:
                items = [batch.items[i] for batch, i, _ in run]
                decisions = plan.decisions(items, enforced, models=models)
                judged += [
                    (d.action, differing_rules(e, d), d, plan)
                    for e, d in zip(enforced, decisions, strict=True)
                ]
            start = end
        return judged

    def process(self, job: ShadowJob) -> None:
        """Judge one job with its shadow and hand counts and flips to the decision log."""
        memos = {}
        for batch, i, _ in job.rows:
            memo = batch.memos[i] if batch.memos is not None else None
            if memo is not None:
                memos[id(memo)] = memo
        models = ReplayingModels(self.agent.models, list(memos.values()))
        try:
            judged = self._judge(job, models)
        except Exception as exc:
            self.failures += len(job.rows)
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("shadow v%s evaluation failed", job.shadow.version)
            return
        with self._count_lock:
            self.extra_model_calls += models.extra_calls
            self.extra_model_inputs += models.extra_inputs
            self.replayed_inputs += models.replayed
            self._record(job.shadow, job.minute, job.rows, judged, models)

    def _record(
        self,
        shadow: Shadow,
        minute: int,
        rows: Sequence[tuple[ServedBatch, int, float]],
        judged: Sequence[Judged],
        models: Any,
    ) -> None:
        """Count judged requests and keep their flips (under `_count_lock`)."""
        shadow_version = shadow.version
        counts: dict[CountKey, int] = {}
        seen_active, version = None, None
        for (batch, i, at), (action, differing, decision, plan) in zip(rows, judged, strict=True):
            if batch.active is not seen_active:
                seen_active, version = batch.active, batch.active.version
            # ._value_: .value is a slower descriptor, run twice per request.
            e_action, s_action = batch.decisions[i].action._value_, action._value_
            key = (minute, version, shadow_version, e_action, s_action, "")
            counts[key] = counts.get(key, 0) + 1
            for rule_id in differing:
                key = (minute, version, shadow_version, e_action, s_action, rule_id)
                counts[key] = counts.get(key, 0) + 1
            if e_action != s_action:
                self.flips += 1
                if self._flip_kept(minute):
                    if decision is None:
                        decision = plan.decisions([batch.items[i]], [batch.decisions[i]],
                                                  models=models)[0]  # fmt: skip
                    self._keep_flip(shadow, batch.served(i, memo=False), decision, at)
        self.shadowed += len(rows)
        if self.decision_log is not None:
            self.decision_log.add_shadow_counts(counts)

    def _flip_kept(self, minute: int) -> bool:
        """Whether a flip in `minute` becomes a record (at most flips_per_minute do)."""
        if minute != self._flip_minute:
            self._flip_minute, self._flips_this_minute = minute, 0
        if self._flips_this_minute >= self.flips_per_minute or self.decision_log is None:
            return False
        self._flips_this_minute += 1
        return True

    def _keep_flip(self, shadow: Shadow, served: Served, decision: Decision, at: float) -> None:
        # `served` carries no model outputs: the record needs none.
        self.flips_kept += 1
        kept = Kept(served, ("shadow_flip",), at, kept_size(served), shadow_of(shadow, decision))
        self.decision_log.keep_shadow_flip(kept)

    def stats(self) -> dict[str, Any]:
        """Return what /healthz shows of shadow evaluation."""
        self.count_pending()
        return {
            "queued": sum(len(rows) for _, _, rows, _ in list(self._jobs)),
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
