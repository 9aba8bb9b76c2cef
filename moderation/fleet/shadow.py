"""Shadow evaluation: judge a sample of served requests with the candidate the channel names.

Guarantees:
- The caller's answer never waits on the shadow: the observer draws the sample (`rate`) and
  hands the requests to a bounded queue; a background thread judges them with the shadow.
  A full queue or a failed evaluation is counted (stats()), never raised into serving.
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
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from moderation.engine.compiled import CompiledBundle
from moderation.engine.decision import Action, Decision
from moderation.engine.delta import DeltaPlan
from moderation.engine.recording import ReplayingModels
from moderation.fleet.agent import FleetAgent, Served, Shadow
from moderation.fleet.decision_records import Kept, kept_size
from moderation.fleet.served import ServedBatch

log = logging.getLogger("moderation.fleet.shadow")

CountKey = tuple[int, int, int, str, str, str]


@dataclass(frozen=True, slots=True)
class _Job:
    shadow: Shadow
    served: tuple[Served, ...]
    decided_at: float  # when the first of them was served (all in its minute)
    times: tuple[float, ...] = ()  # when each was served, if they differ (merged jobs)


def _fired(results, skip: set[int]) -> dict[str, Action]:
    # A threshold on both modalities gives two results under one id: the rule's action is
    # the higher of the two (the image's must not hide the prompt's).
    fired: dict[str, Action] = {}
    for r in results:
        if r.fired and id(r) not in skip:
            held = fired.get(r.rule_id)
            fired[r.rule_id] = r.action if held is None or held < r.action else held
    return fired


def differing_rules(enforced: Decision, shadow: Decision) -> list[str]:
    """The rule ids that fired in one decision only, or in both with another action."""
    # A result the shadow reused from the enforced run (moderation/engine/delta.py) is the
    # same object in both: its rule cannot differ, so it is not looked at.
    shared = {id(r) for r in shadow.results} & {id(r) for r in enforced.results}
    fired_e, fired_s = _fired(enforced.results, shared), _fired(shadow.results, shared)
    return sorted(
        rule_id
        for rule_id in fired_e.keys() | fired_s.keys()
        if fired_e.get(rule_id) != fired_s.get(rule_id)
    )


def shadow_of(shadow: Shadow, decision: Decision) -> dict[str, Any]:
    """The record's `shadow` object: what the candidate decided."""
    return {
        "version": shadow.version,
        "bundle_sha256": shadow.sha256,
        "action": decision.action.value,
        "rules": [
            {
                "rule_id": r.rule_id,
                "kind": r.kind,
                "action": r.action.value,
                "score": r.score,
                "threshold": r.threshold,
                "fired": r.fired,
            }
            for r in decision.results
        ],  # fmt: skip
    }


def _merged(jobs: list[_Job], most: int = 1 << 30) -> list[_Job]:
    """Jobs of the same shadow and minute joined into one (of at most `most` requests where
    they allow it), in order; linear in the requests (no tuple grown one job at a time)."""
    groups: list[tuple[_Job, list[Served], list[float]]] = []
    for job in jobs:
        first, served, times = groups[-1] if groups else (None, [], [])
        if (
            first is not None
            and first.shadow is job.shadow
            and int(first.decided_at // 60) == int(job.decided_at // 60)
            and len(served) + len(job.served) <= most
        ):
            served += job.served
            times += job.times or (job.decided_at,) * len(job.served)
        else:
            groups.append(
                (job, list(job.served), list(job.times or (job.decided_at,) * len(job.served)))
            )
    return [
        job if len(served) == len(job.served) else
        _Job(job.shadow, tuple(served), job.decided_at, tuple(times))
        for job, served, times in groups
    ]  # fmt: skip


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
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max(1, max_queue))
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
        """Observe the agent's served decisions and show these stats in its health()."""
        self.agent.observers.append(self.observe)
        self.agent.shadow_eval = self
        return self

    # --- serving side -------------------------------------------------------------------

    def observe(self, served: Sequence[Served]) -> None:
        """Sample a batch of served decisions for the shadow; O(1) per decision, never raises."""
        try:
            shadow = self.agent.shadow
            if shadow is None or shadow.rate <= 0:
                return
            rate, draw = shadow.rate, self._rng.random
            if type(served) is ServedBatch:  # the agent's batches: build only what is picked
                if served.active.version is None:
                    return
                n = len(served.decisions)
                rows = range(n) if rate >= 1 else [i for i in range(n) if draw() < rate]
                picked = tuple(served.served(i) for i in rows)
            else:
                picked = tuple(
                    s
                    for s in served
                    if s.active.version is not None and (rate >= 1 or draw() < rate)
                )
            if not picked:
                return
            try:
                self._queue.put_nowait(_Job(shadow, picked, self._clock()))
            except queue.Full:
                self.queue_full += len(picked)
                return
            self.sampled += len(picked)
        except Exception:
            self.observer_errors += 1
            log.exception("shadow observer failed; the decision was served")

    # --- background side ----------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Start the evaluation thread (a daemon); `stop()` drains the queue and ends it."""
        self._thread = threading.Thread(target=self._run, name="fleet-shadow", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """Judge what is queued, then end the thread."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        # Jobs that queued up meanwhile are judged together: one engine call for all of
        # them (fewer calls, fewer switches with the serving threads).
        while (job := self._queue.get()) is not None:
            # Waking for every sampled request would take the interpreter lock from the
            # serving threads as often: wait `linger` seconds and judge what came meanwhile.
            if self.linger > 0:
                time.sleep(self.linger)
            jobs, stop = [job], False
            while len(jobs) < 256:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                jobs.append(more)
            for merged in _merged(jobs, self.chunk):
                self.process(merged)
                # Let the serving threads take the interpreter lock between chunks, rather
                # than wait out the switch interval behind a long pure-Python loop.
                time.sleep(0)
            for _ in range(len(jobs) + stop):
                self._queue.task_done()
            if stop:
                return
        self._queue.task_done()

    def join(self) -> None:
        """Wait until every queued request has been judged (benchmarks, tests)."""
        self._queue.join()

    def drain(self) -> None:
        """Judge everything queued on the calling thread (tests, benchmarks without a thread)."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                self.process(job)
            self._queue.task_done()

    def plan(self, enforced: CompiledBundle, candidate: CompiledBundle) -> DeltaPlan:
        """The delta plan of a pair of bundles, made once (the last few pairs are kept)."""
        key = (enforced.sha256, candidate.sha256)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= 4:
                self._plans.clear()
            plan = self._plans[key] = DeltaPlan(enforced, candidate)
        return plan

    def _judge(self, job: _Job, models: ReplayingModels) -> list[Decision]:
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

    def process(self, job: _Job) -> None:
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
        for served, decision, at in zip(job.served, decisions, times, strict=True):
            enforced = served.decision
            version = served.active.version
            e_action, s_action = enforced.action.value, decision.action.value
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
        self, job: _Job, served: Served, decision: Decision, minute: int, at: float
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
            "queued": self._queue.qsize(),
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
