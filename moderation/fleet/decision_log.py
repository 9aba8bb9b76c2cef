"""The decision log: counts every served decision, keeps a sample, uploads both in batches.

Guarantees:
- Serving never waits on the log: the observer takes one lock per batch to bump per-minute
  counters, draw the sample (`Sampler`, the cheap tests first) and append what is kept to a
  bounded buffer; the agent hands it a `ServedBatch`, and a `Served` is built only for a
  kept decision. Thumbnails, hashing, JSON and the network happen on the uploader thread.
  The observer never raises into `check`.
- Memory is bounded (`max_pending` records and `max_pending_bytes`); past either, the
  oldest kept decision is dropped and counted.
- A batch keeps its id across retries (the server stores a batch id once). 5xx, timeouts,
  unreachable servers and 401/403/404 are retried with full-jitter exponential backoff;
  meanwhile batches are spilled to the state dir up to a byte cap, the oldest dropped and
  counted past it. Spilled batches go first, in order, when the server answers again and
  after a restart. A 400/413 batch is logged and discarded: resending cannot help.
- Drops are reported in the next batch's `dropped`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from moderation.engine.bundle.types import Sampling
from moderation.fleet.agent import FleetAgent, Served
from moderation.fleet.client import FleetClient, UploadError
from moderation.fleet.decision_records import (
    MAX_ID_CHARS,
    Kept,
    Sampler,
    kept_size,
    minute_iso,
    packed_body,
    record_json,
    sampling_of,
)
from moderation.fleet.decision_spool import Batch, Spool
from moderation.fleet.schedule import full_jitter
from moderation.fleet.served import Active, ServedBatch

log = logging.getLogger("moderation.fleet.decisions")

MAX_BATCH_RECORDS = 1000
MAX_BATCH_COUNTS = 5000
MAX_BODY_BYTES = 6 * 1024 * 1024  # under the server's 8 MiB, with room for the counts


class DecisionLog:
    """Observer of a FleetAgent's served decisions, with the thread that uploads them."""

    def __init__(
        self,
        *,
        client: FleetClient,
        policy: str,
        channel: str,
        instance_id: str,
        spool_dir: str | Path | None,
        upload_interval: float = 5.0,
        batch_size: int = 500,
        max_pending: int = 10_000,
        max_pending_bytes: int = 64 * 1024 * 1024,
        max_spool_bytes: int = 256 * 1024 * 1024,
        max_backoff: float = 300.0,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client, self.policy, self.channel = client, policy, channel
        self.instance_id = instance_id[:MAX_ID_CHARS]
        self.upload_interval = upload_interval
        self.batch_size = max(1, min(batch_size, MAX_BATCH_RECORDS))
        self.max_pending, self.max_pending_bytes = max_pending, max_pending_bytes
        self.max_backoff = max(max_backoff, upload_interval)
        self.spool = Spool(spool_dir, max_bytes=max_spool_bytes)
        self._rng = rng or random.Random()
        self._clock = clock
        self._sampler = Sampler(random.Random(self._rng.random()))
        self._draw = self._sampler.rng.random
        # What the last bundle seen asks of the log (version, sampling, audit share, blocks).
        self._seen_active: Active | None = None
        self._seen: tuple[int | None, Sampling | None, float, bool] = (None, None, 0.0, False)
        self._lock = threading.Lock()
        self._buffer: deque[Kept] = deque()
        self._buffer_bytes = 0
        self._counts: dict[tuple[int, int, str, str], int] = {}
        # Shadow mode (moderation.fleet.shadow): (minute, version, shadow version, enforced
        # action, shadow action, rule id) -> requests.
        self._shadow_counts: dict[tuple[int, int, int, str, str, str], int] = {}
        self._unreported_drops = 0
        # Called before batches are built, each adding what it counted (shadow mode).
        self.count_sources: list[Callable[[], None]] = []
        self._outbox: deque[Batch] = deque()  # built, not yet sent nor spilled
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.retry_at = 0.0
        self.sent = self.batches_sent = self.dropped = self.rejected = 0
        self.observer_errors = self.duplicates = 0
        self.last_upload: float | None = None
        self.last_error: str | None = None

    def attach(self, agent: FleetAgent) -> DecisionLog:
        """Observe `agent`'s decisions and show this log's stats in its health()."""
        agent.observers.append(self.observe)
        agent.decision_log = self
        return self

    # --- serving side -------------------------------------------------------------------

    def observe(self, served: Sequence[Served]) -> None:
        """Count and sample a batch of served decisions; O(1) per decision, never raises."""
        try:
            now = self._clock()
            if type(served) is ServedBatch:
                with self._lock:
                    self._observe(served, now)
                    full = len(self._buffer) >= self.batch_size
            else:  # a plain sequence of Served (other callers, tests): one run each
                runs = [ServedBatch(s.active, (s.decision,), (s.item,), (s.request_id,),
                                    (s.image_bytes,), (s.memo,)) for s in served]  # fmt: skip
                with self._lock:
                    for run in runs:
                        self._observe(run, now)
                    full = len(self._buffer) >= self.batch_size
            if full:
                self._wake.set()
        except Exception:
            self.observer_errors += 1
            log.exception("decision log observer failed; the decision was served")

    def _observe(self, batch: ServedBatch, now: float) -> None:
        # On the serving path, under the lock: what a bundle asks is read once per bundle,
        # the loop uses locals only, the cheap sampling tests come first, and a Served and
        # its Kept are built only for decisions that are kept.
        if batch.active is not self._seen_active:
            self._seen_active, self._seen = batch.active, sampling_of(batch.active)
        version, sampling, share, keep_blocks = self._seen
        minute = int(now // 60)
        counts, draw = self._counts, self._draw
        for i, decision in enumerate(batch.decisions):
            action = decision.action._value_  # .value is a slower descriptor
            if version is not None:  # the fleet never serves drafts; nothing to count them by
                key = (minute, version, action, "")
                counts[key] = counts.get(key, 0) + 1
                for r in decision.results:
                    if r.fired:
                        key = (minute, version, action, r.rule_id)
                        counts[key] = counts.get(key, 0) + 1
            if sampling is None:
                continue
            # The audit draw is made for every decision alike (a uniform stratum).
            audit = share > 0 and draw() < share
            if audit or action == "review" or (keep_blocks and action == "block"):
                reasons = self._sampler.reasons(sampling, action, minute, audit=audit)
                if reasons:
                    # The shadow's model outputs are not the log's to keep.
                    s = batch.served(i, memo=False)
                    self._keep(Kept(s, reasons, now, kept_size(s)))

    def _keep(self, kept: Kept) -> None:
        self._buffer.append(kept)
        self._buffer_bytes += kept.size
        while len(self._buffer) > 1 and (
            len(self._buffer) > self.max_pending or self._buffer_bytes > self.max_pending_bytes
        ):
            self._buffer_bytes -= self._buffer.popleft().size
            self._unreported_drops += 1
            self.dropped += 1

    def add_shadow_counts(self, counts: dict[tuple[int, int, int, str, str, str], int]) -> None:
        """Add shadow-mode counters (from the shadow evaluator's thread) to the next batches."""
        with self._lock:
            mine = self._shadow_counts
            for key, n in counts.items():
                mine[key] = mine.get(key, 0) + n

    def keep_shadow_flip(self, kept: Kept) -> None:
        """Queue the record of a request the shadow decided otherwise (reason shadow_flip)."""
        with self._lock:
            self._keep(kept)
            full = len(self._buffer) >= self.batch_size
        if full:
            self._wake.set()

    # --- uploader side ------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Start the uploader thread (a daemon); `stop()` flushes and ends it."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="fleet-decisions", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """Flush what is pending (sent, or spilled for the next start) and end the thread."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            self._wake.wait(self.upload_interval)
            self._wake.clear()
            stopping = self._stopping
            self._guarded(final=stopping)
            if stopping:
                return

    def _guarded(self, *, final: bool) -> None:
        try:
            self.flush(final=final)
        except Exception as exc:
            log.exception("decision upload failed unexpectedly")
            self.last_error = f"unexpected {type(exc).__name__}: {exc}"

    def flush(self, *, final: bool = False) -> None:
        """Build batches of what is pending and send them (spilled ones first), or spill them.

        Counts of the current minute wait until it closes, unless `final` (at stop). While
        backing off, nothing is sent: new batches go to the spool. At stop everything is
        spilled first, so a send cut short by the process exiting loses nothing.
        """
        batches = self.build_batches(final=final)
        with self._lock:
            self._outbox.extend(batches)
        if final or self._clock() < self.retry_at:
            self._spill_outbox()
        if self._clock() < self.retry_at:
            return
        while (batch := self._next()) is not None:
            if not self._send(batch):
                self._spill_outbox()
                return

    def _next(self) -> Batch | None:
        batch = self.spool.oldest()
        if self.spool.unreadable:
            with self._lock:
                self.dropped += self.spool.unreadable
                self._unreported_drops += self.spool.unreadable
            self.spool.unreadable = 0
        return batch or (self._outbox[0] if self._outbox else None)

    def _send(self, batch: Batch) -> bool:
        """Send one batch; return False when it must be retried later."""
        try:
            answer = self.client.post_decisions(self.policy, batch.body)
        except UploadError as exc:
            if not exc.permanent:
                self.failures += 1
                delay = full_jitter(
                    self.failures, base=self.upload_interval, cap=self.max_backoff, rng=self._rng
                )
                self.retry_at = self._clock() + delay
                self.last_error = exc.message
                log.warning("decision batch %s not delivered (retry in %.1f s): %s",
                            batch.batch_id, delay, exc.message)  # fmt: skip
                return False
            log.error("decision batch %s refused and discarded (%s records): %s",
                      batch.batch_id, batch.records, exc.message)  # fmt: skip
            self.rejected += batch.records
            self.last_error = exc.message
        else:
            # A duplicate means an earlier try was stored (its answer was lost): delivered.
            self.sent += batch.records
            self.duplicates += bool(answer.get("duplicate"))
            self.batches_sent += 1
            self.failures, self.retry_at = 0, 0.0
            self.last_upload, self.last_error = self._clock(), None
        self._forget(batch)
        return True

    def _forget(self, batch: Batch) -> None:
        if self._outbox and self._outbox[0] is batch:
            with self._lock:
                self._outbox.popleft()
        else:
            self.spool.remove(batch.batch_id)

    def _spill_outbox(self) -> None:
        while self._outbox:
            with self._lock:
                batch = self._outbox.popleft()
            lost = self.spool.put(batch)
            if lost:
                with self._lock:
                    self.dropped += lost
                    self._unreported_drops += lost

    def build_batches(self, *, final: bool = False) -> list[Batch]:
        """Turn the pending records and closed minutes' counts into batches (new ids)."""
        for source in self.count_sources:
            source()
        with self._lock:
            kept = list(self._buffer)
            self._buffer.clear()
            self._buffer_bytes = 0
            open_minute = None if final else int(self._clock() // 60)
            counts = self._take_counts(open_minute)
            shadow_counts = self._take_shadow_counts(open_minute)
            dropped, self._unreported_drops = self._unreported_drops, 0
        records, failed = [], 0
        for k in kept:
            try:
                records.append(record_json(k, channel=self.channel))
            except Exception:
                log.exception("decision record %s could not be built; dropped", k.served.request_id)
                failed += 1
        if failed:
            with self._lock:
                self.dropped += failed
            dropped += failed
        return self._pack(records, counts, dropped, shadow_counts)

    def _take_shadow_counts(self, open_minute: int | None) -> list[dict[str, Any]]:
        names = ("version", "shadow_version", "enforced_action", "shadow_action", "rule_id")
        return self._take(self._shadow_counts, open_minute, names)

    def _take_counts(self, open_minute: int | None) -> list[dict[str, Any]]:
        return self._take(self._counts, open_minute, ("version", "action", "rule_id"))

    def _take(self, counts: dict, open_minute: int | None, names: tuple[str, ...]) -> list[dict]:
        """Pop the counts of closed minutes as rows: (minute, *names) keys, in key order."""
        closed = sorted(k for k in counts if open_minute is None or k[0] < open_minute)
        return [
            {"minute": minute_iso(key[0]), "channel": self.channel,
             **dict(zip(names, key[1:], strict=True)), "count": counts.pop(key)}
            for key in closed
        ]  # fmt: skip

    def _pack(
        self,
        records: list[bytes],
        counts: list[dict],
        dropped: int,
        shadow_counts: list[dict] | None = None,
    ) -> list[Batch]:
        shadow_counts = shadow_counts or []
        batches, start, count_start, shadow_start = [], 0, 0, 0
        while (
            start < len(records)
            or count_start < len(counts)
            or shadow_start < len(shadow_counts)
            or dropped
        ):
            end, size = start, 0
            while end < len(records) and end - start < self.batch_size:
                if end > start and size + len(records[end]) > MAX_BODY_BYTES:
                    break
                size += len(records[end]) + 1
                end += 1
            chunk = counts[count_start : count_start + MAX_BATCH_COUNTS]
            shadow_chunk = shadow_counts[shadow_start : shadow_start + MAX_BATCH_COUNTS]
            batch_id = uuid.uuid4().hex
            body = packed_body(
                batch_id=batch_id,
                instance_id=self.instance_id,
                dropped=dropped,
                counts=chunk,
                records=records[start:end],
                shadow_counts=shadow_chunk,
            )
            batches.append(Batch(batch_id, body, end - start, dropped))
            start, count_start, dropped = end, count_start + len(chunk), 0
            shadow_start += len(shadow_chunk)
        return batches

    def stats(self) -> dict[str, Any]:
        """Return what /healthz shows of the log."""
        with self._lock:
            buffered = len(self._buffer) + sum(b.records for b in self._outbox)
        return {
            "pending": buffered + self.spool.records,
            "spilled_batches": len(self.spool),
            "spilled_bytes": self.spool.bytes,
            "sent": self.sent,
            "batches_sent": self.batches_sent,
            "duplicates": self.duplicates,
            "dropped": self.dropped,
            "rejected": self.rejected,
            "last_upload": self.last_upload,
            "last_error": self.last_error,
            "retry_at": self.retry_at or None,
        }
