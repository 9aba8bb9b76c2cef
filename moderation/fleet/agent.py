"""The fleet agent: keeps one verified policy bundle active and answers checks with it.

Guarantees:
- A bundle becomes active only after every check in `verify` passed AND it was persisted;
  otherwise the previous bundle stays active and the refusal is recorded and reported.
- The active bundle changes by one reference assignment under a lock; a `check()` that
  started with the old bundle finishes with it, so no decision sees a half-loaded policy.
- `If-None-Match` carries the ETag of the active bundle only.
- A sha256 refused for its content is never verified again (nor its body read) until restart.
- The shadow slot (the candidate a channel names in X-Shadow-*) is verified exactly like the
  enforced bundle, with its own anti-rollback floor and refusal memory; nothing about it
  (a refusal, a failed fetch, its absence) ever changes the enforced bundle.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from moderation.engine.compiled import CompiledBundle
from moderation.engine.decision import Decision
from moderation.engine.evaluate import evaluate_batch
from moderation.engine.inputs import Item
from moderation.engine.providers import ModelProvider
from moderation.engine.recording import Memo, RecordingModels
from moderation.engine.staged import Partial, run_stage, staged_decisions, staged_items
from moderation.fleet.client import Download, FleetClient, KnownRefused
from moderation.fleet.keys import TrustedKeys
from moderation.fleet.refusal import Refused, Rejection
from moderation.fleet.reporting import AgentReports
from moderation.fleet.schedule import Schedule
from moderation.fleet.served import (
    Active,
    NoActiveBundle,
    Observer,
    PollResult,
    Served,
    ServedBatch,
    Shadow,
    decoded,
)
from moderation.fleet.shadow_slot import ShadowSlot
from moderation.fleet.store import Persisted, StateError, StateStore
from moderation.fleet.verify import Candidate, Scope, verify_candidate

log = logging.getLogger("moderation.fleet")

__all__ = ["Active", "FleetAgent", "NoActiveBundle", "Observer", "PollResult", "Served", "Shadow"]


class FleetAgent(AgentReports, ShadowSlot):
    """Polls one policy channel, verifies and persists what it gets, and serves decisions."""

    def __init__(
        self,
        *,
        client: FleetClient,
        keys: TrustedKeys,
        scope: Scope,
        store: StateStore,
        models: ModelProvider,
        instance_id: str,
        labels: Mapping[str, str] | None = None,
        heartbeat_every: int = 20,
    ) -> None:
        self.client, self.keys, self.scope, self.store = client, keys, scope, store
        self.models = models
        self.instance_id = instance_id
        self.labels = dict(labels or {})
        self.heartbeat_every = max(1, heartbeat_every)
        self._lock = threading.Lock()
        self._active: Active | None = None
        self.refused: dict[str, Rejection] = {}
        self.last_rejected: Rejection | None = None
        self.last_poll: float | None = None
        self.last_error: str | None = None
        self.last_report_error: str | None = None
        self.polls = 0
        self.reports_sent = 0
        self._model_pins: dict[str, dict[str, str]] | None = None
        # The shadow slot: what is shadowed, the highest shadow accepted (its anti-rollback
        # floor, independent of the enforced slot's), and the shadow refusals.
        self._shadow: Shadow | None = None
        self._shadow_floor: CompiledBundle | None = None
        self.shadow_refused: dict[str, Rejection] = {}
        self.last_shadow_rejected: Rejection | None = None
        # Called with every batch of served decisions (the decision log, counters); an
        # observer must be quick and never raise into serving: errors are logged.
        self.observers: list[Observer] = []
        # The DecisionLog attached to this agent (moderation.fleet.decision_log), if any:
        # health() shows its stats.
        self.decision_log: Any = None
        # The ShadowEvaluator attached to this agent (moderation.fleet.shadow), if any.
        self.shadow_eval: Any = None

    @property
    def active(self) -> Active | None:
        """The bundle being served, or None before the first activation."""
        with self._lock:
            return self._active

    def check(
        self, *, prompt: Any = None, image: Any = None, request_id: str | None = None
    ) -> Decision:
        """Judge a prompt and/or image with the active bundle; the decision carries its stamp.

        `image` is a PIL image or the encoded bytes of one (decoded with the engine's
        load_image, which refuses bombs and truncated files with ImageError).
        """
        return self.check_batch([Item(prompt, image)], request_ids=[request_id])[0]

    def check_batch(
        self, items: Sequence[Item], *, request_ids: Sequence[str | None] | None = None
    ) -> list[Decision]:
        """Judge many items with one engine call on the active bundle, in input order.

        Every decision of the batch is judged by the same bundle, even if a poll swaps
        it meanwhile; observers then see the batch (they never delay the answer's content).
        """
        encoded = [
            bytes(it.image) if isinstance(it.image, bytes | bytearray | memoryview) else None
            for it in items
        ]
        items = decoded(items)
        active = self._require_active()
        # The shadow's sample is drawn first: only its requests record model outputs, and
        # only when the candidate may read them (it judges some rule itself).
        pick = self._shadow_pick(active, len(items))
        if pick is None or not self.shadow_eval.needs_outputs(active, pick[0]):
            decisions = evaluate_batch(active.compiled, items, models=self.models)
            picks = [pick] if pick is not None else None
            self._notify(active, decisions, items, request_ids, encoded, picks=picks)
            return decisions
        models = RecordingModels(self.models)
        decisions = evaluate_batch(active.compiled, items, models=models)
        memos = [models.memo] * len(items)
        self._notify(active, decisions, items, request_ids, encoded, memos, picks=[pick])
        return decisions

    # The staged path (moderation.fleet.batching): the same engine, one stage at a time, so
    # inputs of different requests share each model batch. Its decisions reach the
    # observers exactly like check_batch's.

    def begin_staged(self, items: Sequence[Item]) -> tuple[Active, list[Partial]]:
        """Validate `items` and pin them to the active bundle; raises as check_batch does.

        The shadow's sample is drawn here: a picked partial carries the shadow in `tag`.
        """
        items = decoded(items)
        active = self._require_active()
        partials = staged_items(active.compiled, items, models=self.models)
        pick = self._shadow_pick(active, len(partials))
        if pick is not None:
            for i in pick[1]:
                partials[i].tag = pick[0]
        return active, partials

    def run_stage(self, active: Active, stage: str, partials: Sequence[Partial]) -> None:
        """Run one engine stage on partials begun on `active` (keeping outputs for a shadow)."""
        shadow_eval = self.shadow_eval
        picked = [
            p for p in partials
            if p.tag is not None and shadow_eval is not None
            and shadow_eval.needs_outputs(active, p.tag)
        ]  # fmt: skip
        models = RecordingModels(self.models) if picked else self.models
        run_stage(active.compiled, stage, partials, models=models)
        for p in picked:
            p.memos.append(models.memo)

    def finish_staged(
        self,
        active: Active,
        partials: Sequence[Partial],
        *,
        request_ids: Sequence[str | None] | None = None,
    ) -> list[Decision]:
        """Return the decisions of finished partials and show them to the observers."""
        decisions = staged_decisions(active.compiled, partials)
        items = [p.item for p in partials]
        picked = [i for i, p in enumerate(partials) if p.tag is not None]
        if not picked:
            self._notify(active, decisions, items, request_ids)
            return decisions
        memos = [Memo.joined(p.memos) if p.tag is not None else None for p in partials]
        # Partials of one stage batch may come from begin_staged calls on other shadows.
        shadows: dict[int, tuple[Shadow, list[int]]] = {}
        for i in picked:
            shadows.setdefault(id(partials[i].tag), (partials[i].tag, []))[1].append(i)
        self._notify(active, decisions, items, request_ids, memos=memos,
                     picks=list(shadows.values()))  # fmt: skip
        return decisions

    def _require_active(self) -> Active:
        active = self.active
        if active is None:
            raise NoActiveBundle(
                f"no bundle of {self.scope.policy}/{self.scope.channel} is active yet: the "
                "agent has not fetched and verified one (see /healthz for the last error)"
            )
        return active

    def _notify(
        self,
        active: Active,
        decisions: Sequence[Decision],
        items: Sequence[Item],
        request_ids: Sequence[str | None] | None,
        encoded: Sequence[bytes | None] | None = None,
        memos: Sequence[Memo | None] | None = None,
        *,
        picks: Sequence[tuple[Shadow, Sequence[int]]] | None = None,
    ) -> None:
        """Show served decisions to the observers, and the picked rows to the shadow.

        `encoded` are the images as sent, if known (the staged path gets decoded images, so
        the decision log hashes their pixels).
        """
        if not self.observers and not picks:
            return
        # One object per batch on the serving path; a Served is built only when read.
        served = ServedBatch(active, decisions, items, request_ids, encoded, memos)
        for observer in self.observers:
            try:
                observer(served)
            except Exception:
                log.exception("decision observer %r failed", observer)
        shadow_eval = self.shadow_eval
        for shadow, rows in picks or ():
            if shadow_eval is not None:  # None: detached since the sample was drawn
                shadow_eval.take(shadow, served, rows)

    def restore(self) -> bool:
        """Activate the persisted bundle if it still verifies; record why not otherwise."""
        try:
            loaded = self.store.load()
        except StateError as exc:
            self._reject(Refused("invalid_bundle", f"persisted state refused: {exc}"))
            return False
        if loaded is None:
            return False
        meta, body = loaded
        candidate = Candidate(body, meta.sha256, meta.version, meta.signatures, meta.etag)
        try:
            self._check_persisted_scope(meta)
            compiled = self._verify(candidate, active=None)
        except Refused as exc:
            exc.message = f"persisted bundle in {self.store.directory} refused at start: {exc}"
            # The fault may be the local copy's (edited file, stale signature): the server's
            # copy of the same sha256 must still be fetched and verified on its own.
            self._reject(exc, remember=False)
            return False
        self._swap(Active(compiled, meta.etag, meta.signatures, time.time()))
        log.info("serving persisted bundle v%s (%s)", meta.version, meta.sha256[:12])
        return True

    def _check_persisted_scope(self, meta: Persisted) -> None:
        # Versions count per policy, not per channel: a staging bundle kept after the agent
        # was moved to production would make production's (lower) version look like a rollback.
        if (meta.policy, meta.channel) != (self.scope.policy, self.scope.channel):
            raise Refused(
                "scope_mismatch",
                f"it was saved for {meta.policy}/{meta.channel}, this agent now follows "
                f"{self.scope.policy}/{self.scope.channel}",
                version=meta.version,
                sha256=meta.sha256,
            )

    def poll_once(self) -> PollResult:
        """Fetch the channel once and activate what verifies; never raises for fetch problems."""
        self.polls += 1
        result = self._poll()
        self.last_poll = time.time()
        shadow_news = result.shadow_changed or result.shadow_refused is not None
        if result.changed or result.refused is not None or shadow_news or self._heartbeat_due():
            self.report()
        return result

    def _poll(self) -> PollResult:
        active = self.active
        try:
            answer = self.client.fetch_bundle(
                self.scope.policy,
                self.scope.channel,
                etag=active.etag if active else None,
                skip=self.refused.keys(),
            )
        except Refused as exc:
            # No answer: the shadow named last time is kept until the channel says otherwise.
            return self._failed(exc)
        result = PollResult()
        try:
            if isinstance(answer, KnownRefused):
                self.last_rejected = self.refused[answer.sha256]
            else:
                changed = isinstance(answer, Download) and self._accept(answer, active)
                result = PollResult(changed=changed)
            self.last_error = None
        except Refused as exc:
            result = self._failed(exc)
        shadow_changed, shadow_refused = self._follow_shadow(answer.shadow)
        return PollResult(
            result.changed, result.failed, result.refused, shadow_changed, shadow_refused
        )

    def _failed(self, exc: Refused) -> PollResult:
        failed = exc.reason in ("http_error", "digest_mismatch")
        return PollResult(failed=failed, refused=self._reject(exc))

    def _accept(self, download: Download, active: Active | None) -> bool:
        """Verify, persist, then swap; return False when the server resent the active bundle."""
        if active is not None and download.sha256 == active.sha256:
            return False
        etag = download.etag or download.sha256
        candidate = Candidate(
            download.body, download.sha256, download.version, download.signatures, download.etag
        )
        compiled = self._verify(candidate, active=active.compiled if active else None)
        meta = Persisted(
            self.scope.policy, self.scope.channel, compiled.bundle.policy.version,
            compiled.sha256, etag, download.signatures or "", time.time(),
        )  # fmt: skip
        try:
            self.store.save(meta, download.body)
        except StateError as exc:
            raise Refused(
                "persist_failed", str(exc), version=meta.version, sha256=meta.sha256
            ) from None
        self._swap(Active(compiled, etag, meta.signatures, meta.saved_at))
        self.last_rejected = None
        log.info("activated v%s (%s)", meta.version, meta.sha256[:12])
        return True

    def _verify(self, candidate: Candidate, *, active: CompiledBundle | None) -> CompiledBundle:
        return verify_candidate(
            candidate, keys=self.keys, scope=self.scope, models=self.models, active=active
        )

    def _swap(self, new: Active) -> None:
        with self._lock:
            self._active = new

    def _reject(self, exc: Refused, *, remember: bool = True) -> Rejection | None:
        """Record a refusal; return it when it concerns a bundle (and so is reported)."""
        self.last_error = f"{exc.reason}: {exc.message}"
        log.warning("%s", self.last_error)
        record = exc.record()
        if remember and record.remembered:
            self.refused[record.sha256] = record
        if exc.reason == "http_error" and record.sha256 is None:
            # The server was unreachable or said no: not a verdict on any bundle.
            return None
        self.last_rejected = record
        return record

    def _heartbeat_due(self) -> bool:
        return self.reports_sent == 0 or self.polls % self.heartbeat_every == 0

    def run(self, stop: threading.Event, schedule: Schedule) -> None:
        """Poll until `stop` is set, waiting schedule.next_delay() between polls.

        An unexpected error in one poll is logged and counted as a failure: the polling
        thread never dies while the HTTP endpoint keeps serving.
        """
        while not stop.is_set():
            try:
                failed = self.poll_once().failed
            except Exception as exc:
                log.exception("poll failed unexpectedly")
                self.last_error = f"unexpected {type(exc).__name__}: {exc}"
                failed = True
            stop.wait(schedule.next_delay(failed))
        log.info("stopped polling %s/%s", self.scope.policy, self.scope.channel)
