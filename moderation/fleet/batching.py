"""Dynamic batching for the moderation service: concurrent inputs share each model batch.

Every input admitted by `Batcher.submit` becomes a job that goes through the engine's
stages (moderation.engine.evaluate.PIPELINE: prompt, image, concepts) in order. Each stage
has its own queue and worker thread: the worker takes the first waiting job, waits up to
`max_wait_ms` (from that job's arrival) for up to `max_batch` jobs, and runs the stage once
for all of them through FleetAgent.run_stage. It waits only while inputs have been
arriving closer together than `max_wait_ms`: a lone request, or a light load, is not
held back for company that is not coming. So inputs of different requests share one
model pass per stage, and the event loop only ever waits on futures.

- Bounded queue: at most `max_queue` inputs are admitted and unanswered at once; beyond
  that `submit` raises Overloaded (429 with Retry-After from the recent throughput).
- Deadlines: a job whose deadline has passed when its batch is formed is failed with
  DeadlineExceeded (503) and never evaluated further; no decision of it is ever served.
- Cascade: after the prompt stage, a job already blocked skips the image stages unless it
  asked for all scores; `Partial.stages` says for each stage whether it ran and why not.
- Decisions are made by FleetAgent.finish_staged, so the agent's observers see each one.
- A poll may swap the bundle meanwhile: a job stays on the bundle it was admitted with,
  and a batch holding jobs of two bundles runs the stage once per bundle.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from moderation.engine.decision import Action, Decision
from moderation.engine.evaluate import PIPELINE
from moderation.engine.inputs import Item
from moderation.engine.staged import Partial, stage_needed
from moderation.fleet.agent import Active, FleetAgent
from moderation.fleet.metrics import ServiceMetrics

log = logging.getLogger("moderation.fleet.batching")

CASCADED = "skipped: the prompt is already blocked (send all_scores to run it)"
NOT_NEEDED = "skipped: nothing in this input for this stage's rules"


@dataclass(frozen=True)
class StageSettings:
    """How one stage gathers a batch: at most `max_batch` inputs, waiting `max_wait_ms`."""

    max_batch: int
    max_wait_ms: float

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.max_wait_ms < 0:
            raise ValueError(f"max_batch must be >= 1 and max_wait_ms >= 0, not {self}")


# Defaults measured on CPU (bench/bench_serving.py, docs/fleet-agent.md "Tuning"): 32
# prompts per batch reach the engine's in-process throughput; a few ms of waiting is
# enough to fill batches under load and costs a lone request little.
# How much a new gap between arrivals moves a stage's average gap (an exponential average
# over about the last 4 arrivals): enough to notice a load ending within a few requests.
GAP_WEIGHT = 0.25

DEFAULT_STAGES = {
    "prompt": StageSettings(32, 4.0),
    "image": StageSettings(16, 8.0),
    "concepts": StageSettings(16, 8.0),
}


@dataclass(frozen=True)
class BatchSettings:
    """Every knob of the batcher (see docs/fleet-agent.md for the measured trade-offs)."""

    stages: dict[str, StageSettings] = field(default_factory=lambda: dict(DEFAULT_STAGES))
    max_queue: int = 512  # inputs admitted and not answered
    default_deadline_ms: float = 2000.0  # when the caller gives none
    max_deadline_ms: float = 60000.0


class Overloaded(Exception):
    """The bounded queue is full; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeadlineExceeded(Exception):
    """The job's deadline passed before its batch ran; it was not evaluated further."""


@dataclass(frozen=True)
class Outcome:
    """What a job's future resolves to: the decision and what each stage did."""

    decision: Decision
    stages: dict[str, str]
    active: Active


@dataclass(eq=False)
class _Job:
    active: Active
    partial: Partial
    request_id: str | None
    deadline: float  # time.monotonic()
    deadline_ms: float
    all_scores: bool
    admitted: float
    future: Future = field(default_factory=Future)
    remaining: list[str] = field(default_factory=list)
    enqueued: float = 0.0


class _Stage:
    """One stage's queue and worker thread."""

    def __init__(self, name: str, settings: StageSettings, batcher: Batcher) -> None:
        self.name, self.settings, self.batcher = name, settings, batcher
        self.queue: deque[_Job] = deque()
        self.cond = threading.Condition()
        self.stopping = False
        self.thread: threading.Thread | None = None
        # Arrival events (a request's inputs, or a batch handed on by the stage before):
        # the last one, and the moving average of the gaps between them, in seconds.
        self.last_arrival: float | None = None
        self.gap: float | None = None

    def start(self) -> None:
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, name=f"batch-{self.name}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def put(self, jobs: Sequence[_Job]) -> None:
        """Queue jobs that arrive together (one request, or one batch of the stage before)."""
        now = time.monotonic()
        for job in jobs:
            job.enqueued = now
        with self.cond:
            if self.last_arrival is not None:
                gap = now - self.last_arrival
                self.gap = gap if self.gap is None else self.gap + GAP_WEIGHT * (gap - self.gap)
            self.last_arrival = now
            was_empty = not self.queue
            self.queue.extend(jobs)
            if len(self.queue) >= self.settings.max_batch or was_empty:
                self.cond.notify()

    def company_expected(self, wait: float) -> bool:
        """Whether more inputs are likely within `wait` s: arrivals have been closer than it.

        A lone client, or a load light enough that arrivals are further apart than the
        wait, gets its batch at once instead of paying `max_wait_ms` for nobody. Before
        any gap is known (the first arrivals) the stage waits, as under load.
        """
        return self.gap is None or self.gap < wait

    def _take(self) -> list[_Job] | None:
        wait = self.settings.max_wait_ms / 1000.0
        with self.cond:
            while not self.queue and not self.stopping:
                self.cond.wait()
            if not self.queue:
                return None
            until = self.queue[0].enqueued + wait
            while (
                len(self.queue) < self.settings.max_batch
                and not self.stopping
                and self.company_expected(wait)
            ):
                left = until - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            n = min(len(self.queue), self.settings.max_batch)
            return [self.queue.popleft() for _ in range(n)]

    def _loop(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            try:
                self.batcher._run(self.name, batch)
            except Exception as exc:  # never let the worker die: fail the batch instead
                log.exception("stage %s failed", self.name)
                self.batcher._fail(batch, exc)


class Batcher:
    """Admits inputs, batches them per stage and resolves one future per input."""

    def __init__(
        self,
        agent: FleetAgent,
        settings: BatchSettings | None = None,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.agent = agent
        self.settings = settings or BatchSettings()
        self.metrics = metrics or ServiceMetrics()
        missing = set(PIPELINE) - set(self.settings.stages)
        if missing:
            raise ValueError(f"no batch settings for stage {sorted(missing)[0]!r}")
        self.stages = {s: _Stage(s, self.settings.stages[s], self) for s in PIPELINE}
        self._lock = threading.Lock()
        self._in_flight = 0
        self._done_at: deque[float] = deque(maxlen=4096)  # recent completion times
        self.running = False

    def start(self) -> None:
        """Start the stage workers (idempotent)."""
        with self._lock:
            if self.running:
                return
            self.running = True
        for stage in self.stages.values():
            stage.start()

    def stop(self) -> None:
        """Stop the workers once their queues are drained."""
        with self._lock:
            if not self.running:
                return
            self.running = False
        for stage in self.stages.values():
            stage.stop()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def depths(self) -> dict[str, int]:
        """Inputs waiting per stage."""
        return {name: len(stage.queue) for name, stage in self.stages.items()}

    def full(self) -> bool:
        return self._in_flight >= self.settings.max_queue

    def submit(
        self,
        items: Sequence[Item],
        *,
        request_ids: Sequence[str | None] | None = None,
        deadline_ms: float | None = None,
        all_scores: bool = False,
    ) -> list[Future]:
        """Admit `items` (all or none) and return one future of an Outcome per item.

        Raises Overloaded when the queue cannot take them all, NoActiveBundle before any
        bundle is active, and the engine's InputError/ImageError for bad inputs.
        """
        if not self.running:
            raise RuntimeError("the batcher is not running; call start() first")
        n = len(items)
        with self._lock:
            if self._in_flight + n > self.settings.max_queue:
                raise Overloaded(
                    f"the service is at its queue limit ({self._in_flight} of "
                    f"{self.settings.max_queue} inputs in flight); retry after "
                    f"{self.retry_after()} s or send fewer items at once",
                    self.retry_after(),
                )
            self._in_flight += n
        try:
            active, partials = self.agent.begin_staged(items)
        except BaseException:
            with self._lock:
                self._in_flight -= n
            raise
        ms = self.settings.default_deadline_ms if deadline_ms is None else deadline_ms
        now = time.monotonic()
        ids = list(request_ids) if request_ids is not None else [None] * n
        jobs = [
            _Job(active, p, rid, now + ms / 1000.0, ms, all_scores, now)
            for p, rid in zip(partials, ids, strict=True)
        ]
        first: dict[str, list[_Job]] = {}
        for job in jobs:
            compiled = active.compiled
            job.remaining = [s for s in PIPELINE if stage_needed(compiled, s, job.partial.item)]
            for s in PIPELINE:
                if s not in job.remaining:
                    job.partial.stages[s] = NOT_NEEDED
            # A job no stage needs still passes the prompt worker, which answers it.
            first.setdefault(job.remaining[0] if job.remaining else "prompt", []).append(job)
        for stage, queued in first.items():
            self.stages[stage].put(queued)
        return [job.future for job in jobs]

    def retry_after(self) -> int:
        """Seconds the queue needs to drain at the throughput of the last 5 seconds."""
        now = time.monotonic()
        recent = sum(1 for t in self._done_at if now - t <= 5.0)
        rate = recent / 5.0
        if rate <= 0:
            return 1
        return max(1, min(30, math.ceil(self._in_flight / rate)))

    # Worker side ---------------------------------------------------------------------

    def _run(self, stage: str, batch: list[_Job]) -> None:
        now = time.monotonic()
        live = []
        for job in batch:
            if now > job.deadline:
                waited = (now - job.admitted) * 1000.0
                self._settle(job, exc=DeadlineExceeded(
                    f"the deadline of {job.deadline_ms:g} ms passed after {waited:.0f} ms "
                    f"waiting for the {stage} stage; the input was not evaluated. Retry with "
                    "a longer X-Deadline-Ms (or deadline_ms) or when the service is less busy"
                ))  # fmt: skip
            else:
                live.append(job)
        needing = [j for j in live if j.remaining and j.remaining[0] == stage]
        for active, jobs in _by_bundle(needing).items():
            start = time.perf_counter()
            try:
                self.agent.run_stage(active, stage, [j.partial for j in jobs])
            except Exception as exc:
                log.exception("stage %s failed on a batch of %d", stage, len(jobs))
                for job in jobs:
                    self._settle(job, exc=exc)
                continue
            self.metrics.stage_seconds.labels(stage).observe(time.perf_counter() - start)
            self.metrics.batch_size.labels(stage).observe(len(jobs))
            for job in jobs:
                job.remaining.pop(0)
                if stage == "prompt":
                    self._cascade(job)
        finished, onward = [], {}
        for job in live:
            if job.future.done():
                continue
            if job.remaining:
                onward.setdefault(job.remaining[0], []).append(job)
            else:
                finished.append(job)
        for next_stage, jobs in onward.items():
            self.stages[next_stage].put(jobs)
        self._finish(finished)

    def _cascade(self, job: _Job) -> None:
        if job.all_scores or job.partial.action() is not Action.BLOCK:
            return
        for s in job.remaining:
            if s in ("image", "concepts"):
                job.partial.stages[s] = CASCADED
        job.remaining = [s for s in job.remaining if s not in ("image", "concepts")]

    def _finish(self, jobs: list[_Job]) -> None:
        for active, group in _by_bundle(jobs).items():
            decisions = self.agent.finish_staged(
                active, [j.partial for j in group], request_ids=[j.request_id for j in group]
            )
            for job, decision in zip(group, decisions, strict=True):
                self.metrics.decisions.labels(decision.action.value).inc()
                self._settle(job, result=Outcome(decision, dict(job.partial.stages), active))

    def _fail(self, jobs: Sequence[_Job], exc: BaseException) -> None:
        for job in jobs:
            if not job.future.done():
                self._settle(job, exc=exc)

    def _settle(self, job: _Job, *, result=None, exc: BaseException | None = None) -> None:
        if job.future.done():
            return
        with self._lock:
            self._in_flight -= 1
            self._done_at.append(time.monotonic())
        if exc is not None:
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)


def _by_bundle(jobs: Sequence[_Job]) -> dict[Active, list[_Job]]:
    groups: dict[Active, list[_Job]] = {}
    for job in jobs:
        groups.setdefault(job.active, []).append(job)
    return groups
