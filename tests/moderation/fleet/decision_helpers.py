"""Served decisions, a fake decisions endpoint client and a settable clock for the log's tests."""

from __future__ import annotations

import json
import random

from moderation.engine.bundle import Bundle, KeywordSet, PolicyInfo, Sampling
from moderation.engine.compiled import compile_bundle
from moderation.engine.decision import Action
from moderation.engine.evaluate import evaluate_batch
from moderation.engine.inputs import Item
from moderation.fleet.agent import Active, Served
from moderation.fleet.client import UploadError
from moderation.fleet.decision_log import DecisionLog

from .conftest import FakeModels, make_pin

NO_AUDIT = Sampling(audit_share=0.0)


def sampled_bundle(sampling: Sampling | None, *, version: int = 3) -> Bundle:
    """A bundle that blocks 'sex', sends 'gore' to review, and carries `sampling`."""
    return Bundle.create(
        policy=PolicyInfo("acme", "default", "Default policy", version, version),
        pins={"minilm": make_pin("minilm")},
        keyword_sets=(
            KeywordSet("kw-block", "Adult words", Action.BLOCK, ("sex",)),
            KeywordSet("kw-review", "Gore words", Action.REVIEW, ("gore",)),
        ),
        sampling=sampling,
    )


def active(sampling: Sampling | None = NO_AUDIT, *, version: int = 3) -> Active:
    compiled = compile_bundle(sampled_bundle(sampling, version=version))
    return Active(compiled, compiled.sha256, "", 0.0)


def served(act: Active, prompt: str | None = "a cat", *, image=None, rid=None, raw=None) -> Served:
    """A decision of `act` on one prompt and/or decoded image, as the agent's observers see it."""
    item = Item(prompt, image)
    decision = evaluate_batch(act.compiled, [item], models=FakeModels())[0]
    return Served(act, decision, item, rid, raw)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_796_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeDecisionsClient:
    """Answers like the ingest endpoint; `fail` holds errors to raise on the next calls."""

    def __init__(self) -> None:
        self.posted: list[dict] = []
        self.fail: list[UploadError] = []
        self.stored: set[str] = set()

    def post_decisions(self, policy: str, body: bytes) -> dict:
        batch = json.loads(body)
        self.posted.append(batch)
        if self.fail:
            raise self.fail.pop(0)
        duplicate = batch["batch_id"] in self.stored
        self.stored.add(batch["batch_id"])
        stored = 0 if duplicate else len(batch["records"])
        return {"batch_id": batch["batch_id"], "stored": stored, "duplicate": duplicate}


def down(status: int | None = 503) -> UploadError:
    return UploadError(f"HTTP {status}: the server failed", status=status)


def make_log(client=None, *, clock=None, spool_dir=None, **options) -> DecisionLog:
    options.setdefault("rng", random.Random(5))
    return DecisionLog(
        client=client or FakeDecisionsClient(),
        policy="default",
        channel="production",
        instance_id="gpu-7",
        spool_dir=spool_dir,
        clock=clock or Clock(),
        **options,
    )
