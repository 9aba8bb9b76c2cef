"""What judging a shadow costs per request on a policy of every rule kind: the candidate in
full on the replayed model outputs, against its delta plan (only the changed rules run).

A policy with five keyword sets, two embedding sets, category thresholds on prompts and
images and a CLIP concept (deterministic fake models: the cost measured is the rules'
own work, which the replayed outputs leave to the shadow); the candidate makes one
keyword set stricter, as a tightened draft does: a term more, and block instead of review
(a change of action alone is relabelled, and nothing of it runs). Decisions of both ways are checked
equal before timing. Each figure is the best of `--repeat` runs over the same requests.

Run: python bench/bench_shadow_delta.py [--requests 200] [--repeat 7]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
import timeit
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import terms  # noqa: E402
from moderation.engine.bundle import (  # noqa: E402
    Bundle,
    CategoryOutputs,
    CategoryThreshold,
    Concept,
    EmbeddingSet,
    KeywordSet,
    PolicyInfo,
)
from moderation.engine.compiled import compile_bundle  # noqa: E402
from moderation.engine.decision import Action  # noqa: E402
from moderation.engine.delta import DeltaPlan  # noqa: E402
from moderation.engine.embedding_rules import embedding_set_vectors  # noqa: E402
from moderation.engine.evaluate import evaluate_batch  # noqa: E402
from moderation.engine.models.base import ModelPin  # noqa: E402
from moderation.engine.providers import require_pins  # noqa: E402
from moderation.engine.recording import RecordingModels, ReplayingModels  # noqa: E402

DIM = 64
CATEGORIES = ("nudity", "violence", "weapons", "drugs", "hate")


def pin(name: str) -> ModelPin:
    return ModelPin(name, f"{name} 1", hashlib.sha256(name.encode()).hexdigest())


class Text:
    pin, dim = pin("minilm"), DIM

    def encode(self, texts):
        rows = [
            np.random.default_rng(len(t) * 7919 + ord(t[0])).standard_normal(DIM) for t in texts
        ]
        return np.array(rows, dtype=np.float32).reshape(len(texts), DIM)


class Clip:
    pin, dim, calibrated = pin("clip"), DIM, True

    def encode_images(self, images):
        return np.array([np.full(DIM, 1.0 + im.width % 7) for im in images], dtype=np.float32)


class Scorer:
    def __init__(self, name: str, modality: str) -> None:
        self.pin, self.modality = pin(name), modality
        self.outputs = tuple(f"{name}.{c}" for c in CATEGORIES)

    def score(self, inputs):
        return [{o: (hash((o, id(x))) % 100) / 100 for o in self.outputs} for x in inputs]


class Models:
    def __init__(self) -> None:
        self.text, self.clip = Text(), Clip()
        self.prompt, self.image = Scorer("textcls", "prompt"), Scorer("nsfw", "image")

    def text_encoder(self):
        return self.text

    def image_encoder(self):
        return self.clip

    def scorers(self, modality):
        return [self.prompt if modality == "prompt" else self.image]

    def pins(self):
        return {m.pin.name: m.pin for m in (self.text, self.clip, self.prompt, self.image)}

    def check_pins(self, required):
        require_pins(required, self.pins())


def policy(models: Models, version: int, strict: bool) -> Bundle:
    sets = [KeywordSet(f"kw-{i}", f"Set {i}", Action.REVIEW, tuple(terms(1000, seed=i)))
            for i in range(5)]  # fmt: skip
    if strict:  # a term more, and blocked instead of reviewed: the set is judged again
        sets[0] = dataclasses.replace(
            sets[0], action=Action.BLOCK, terms=(*sets[0].terms, "strictly forbidden")
        )
    embedding = []
    for i in range(2):
        examples = tuple(f"example phrase {i} {k}" for k in range(20))
        vectors, _ = embedding_set_vectors(models.text, examples)
        embedding.append(EmbeddingSet(f"emb-{i}", f"Emb {i}", Action.REVIEW, 0.9, "minilm",
                                      examples, vectors))  # fmt: skip
    prototype = np.full(DIM, 1 / np.sqrt(DIM), dtype=np.float32)
    return Bundle.create(
        policy=PolicyInfo("bench", "default", "Bench", version, version),
        pins=models.pins(),
        dims={"minilm": DIM, "clip": DIM},
        category_outputs={
            c: CategoryOutputs((f"textcls.{c}",), (f"nsfw.{c}",)) for c in CATEGORIES
        },
        thresholds=tuple(CategoryThreshold(f"cat-{c}", c, "both", 0.5, 0.9) for c in CATEGORIES),
        keyword_sets=tuple(sets),
        embedding_sets=tuple(embedding),
        concepts=(
            Concept("concept-0", "Concept", Action.REVIEW, "prototype", 0.95, "clip", prototype),
        ),  # fmt: skip
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    models = Models()
    enforced = compile_bundle(policy(models, 1, strict=False))
    candidate = compile_bundle(policy(models, 2, strict=True))
    words = terms(2000, seed=99)
    items = [
        (" ".join(words[(7 * i + k) % len(words)] for k in range(12)),
         Image.new("RGB", (32 + i % 5, 32), (i % 255, 0, 0)) if i % 4 == 0 else None)
        for i in range(args.requests)
    ]  # fmt: skip
    recording = RecordingModels(models)
    served = evaluate_batch(enforced, items, models=recording)
    plan = DeltaPlan(enforced, candidate)

    def full():
        replay = ReplayingModels(models, [recording.memo])
        return evaluate_batch(candidate, items, models=replay)

    def delta():
        replay = ReplayingModels(models, [recording.memo])
        return plan.decisions(items, served, models=replay)

    assert [d.action for d in full()] == [d.action for d in delta()]

    def per_request(fn) -> float:
        best = min(timeit.repeat(fn, number=3, repeat=args.repeat)) / 3
        return best / len(items) * 1e6

    check = per_request(lambda: evaluate_batch(enforced, items, models=models))
    whole, planned = per_request(full), per_request(delta)
    rules = sum(len(getattr(candidate.bundle, p)) for p in
                ("keyword_sets", "embedding_sets", "thresholds", "concepts"))  # fmt: skip
    print(f"{len(items)} requests ({sum(1 for _, im in items if im)} with an image); "
          f"candidate: {rules} rules, {plan.rules_run} changed")  # fmt: skip
    print(f"enforced check (fake models): {check:.1f} us per request")
    print(f"shadow, candidate in full on replayed outputs: {whole:.1f} us per request")
    print(f"shadow, delta plan: {planned:.1f} us per request ({whole / planned:.1f}x less)")


if __name__ == "__main__":
    main()
