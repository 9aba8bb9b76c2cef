"""Custom classifiers: training time against a bare sklearn fit, and their cost in evaluate_batch.

Run: python bench/bench_classifiers.py [--sizes 1000 10000 50000] [--batch 32]

Training: synthetic features of the image shape (a 512-d unit CLIP-like vector
plus 19 NudeNet/open_nsfw outputs), two overlapping classes. "ours" is
classifier_training.train (5-fold out-of-fold fits, Platt, final fit, cleanlab);
"bare" is one LogisticRegression fit on the same standardised features, so the
ratio is the price of honest metrics and label issues. Feature extraction
(encoders) is not in these numbers: it is the encoders' own cost, which the
vector cache (kernel/vectors.py) pays once per image and model.

Scoring: evaluate_batch on the models this process loads (the real registry:
MiniLM, CLIP, NudeNet, open_nsfw), one bundle with an image category threshold,
an embedding set and a concept (so the batch encodes prompts and images), and
the same bundle with 5 trained classifiers added (3 image, 2 prompt). The
classifiers reuse the vectors and outputs the batch computed, so the ratio
should stay at or under 1.1x.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from moderation.analysis import classifier_training  # noqa: E402

IMAGE_DIM, OUTPUTS = 512, 19


def synthetic(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.random(n) < 0.3
    direction = rng.standard_normal(IMAGE_DIM)
    vectors = rng.standard_normal((n, IMAGE_DIM)) + np.outer(y, direction) * 0.08
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    outputs = np.clip(rng.normal(0.2 + 0.2 * y[:, None], 0.15, (n, OUTPUTS)), 0, 1)
    return np.hstack([vectors, outputs]), y


def bench_training(sizes: list[int]) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    print(f"training on {IMAGE_DIM}+{OUTPUTS} features (best of 1 run each)")
    for n in sizes:
        x, y = synthetic(n, rng)
        start = time.perf_counter()
        trained = classifier_training.train(x, y)
        classifier_training.metrics(y, trained.oof, target_precision=0.9)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        mean, scale = x.mean(axis=0), x.std(axis=0)
        LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(
            (x - mean) / np.where(scale > 0, scale, 1), y
        )
        bare = time.perf_counter() - start
        print(
            f"{n:>7} samples   ours {ours:8.2f} s   bare fit {bare:7.2f} s   "
            f"ratio {ours / bare:5.1f}x   ({trained.folds} folds, "
            f"{len(trained.label_issues)} label issues)"
        )


def _classifiers(registry, count_image: int, count_prompt: int):
    from moderation.engine.bundle import Classifier
    from moderation.engine.decision import Action

    rng = np.random.default_rng(1)
    image, text = registry.image_encoder(), registry.text_encoder()
    outputs = tuple(sorted(o for s in registry.scorers("image") for o in s.outputs))
    made = []
    for k in range(count_image + count_prompt):
        is_image = k < count_image
        width = (image.dim + len(outputs)) if is_image else text.dim
        made.append(Classifier(
            id=f"classifier:{k}", name=f"bench {k}", action=Action.REVIEW,
            target="image" if is_image else "prompt", threshold=0.5, version=1,
            encoder=(image if is_image else text).pin.name,
            outputs=outputs if is_image else (),
            weights=rng.standard_normal(width).astype(np.float32), bias=0.0,
            mean=np.zeros(width, np.float32), scale=np.ones(width, np.float32),
        ))  # fmt: skip
    return made


def bench_scoring(batch: int, repeats: int) -> None:
    from PIL import Image

    from moderation.engine.bundle import (
        Bundle,
        CategoryOutputs,
        CategoryThreshold,
        Concept,
        EmbeddingSet,
        PolicyInfo,
    )
    from moderation.engine.decision import Action
    from moderation.engine.evaluate import evaluate_batch
    from moderation.engine.models.registry import ModelRegistry, RegistryConfig

    registry = ModelRegistry(RegistryConfig.from_env())
    image_outputs = tuple(o for s in registry.scorers("image") for o in s.outputs)
    pins = registry.pins()
    text, image = registry.text_encoder(), registry.image_encoder()
    example = text.encode(["a weapon for sale"]).astype(np.float32)
    proto = np.random.default_rng(3).standard_normal(image.dim).astype(np.float32)
    base = {
        "policy": PolicyInfo("bench", "default", "Bench", 1, 1),
        "pins": pins,
        "dims": {text.pin.name: text.dim, image.pin.name: image.dim},
        "category_outputs": {"nudity": CategoryOutputs(image=image_outputs)},
        "thresholds": (CategoryThreshold("nudity:image", "nudity", "image", 0.5, 0.8),),
        "embedding_sets": (
            EmbeddingSet("emb", "Weapons", Action.REVIEW, 0.8, text.pin.name,
                         ("a weapon for sale",), example / np.linalg.norm(example)),
        ),
        "concepts": (
            Concept("concept", "Mascot", Action.REVIEW, "prototype", 0.9, image.pin.name,
                    proto / np.linalg.norm(proto)),
        ),
    }  # fmt: skip
    plain = Bundle.create(**base)
    with_five = Bundle.create(**base, classifiers=tuple(_classifiers(registry, 3, 2)))
    rng = np.random.default_rng(2)
    items = [
        {"prompt": f"a photo of item {i} on a table",
         "image": Image.fromarray(rng.integers(0, 255, (224, 224, 3), dtype=np.uint8))}
        for i in range(batch)
    ]  # fmt: skip
    for bundle in (plain, with_five):
        evaluate_batch(bundle, items, models=registry)  # warm-up: models load, bundles compile
    times = {"without": [], "with 5 classifiers": []}
    for _ in range(repeats):
        for label, bundle in (("without", plain), ("with 5 classifiers", with_five)):
            start = time.perf_counter()
            decisions = evaluate_batch(bundle, items, models=registry)
            times[label].append(time.perf_counter() - start)
    stage = np.mean([d.timings_ms["classifiers"] for d in decisions])
    best = {label: min(t) for label, t in times.items()}
    print(f"evaluate_batch, batch {batch}, best of {repeats}, device {registry.device}")
    for label, seconds in best.items():
        print(f"  {label:<20} {seconds * 1e3:9.1f} ms")
    share = (best["without"] * 1e3 + stage * batch) / (best["without"] * 1e3)
    print(
        f"  ratio {best['with 5 classifiers'] / best['without']:.3f}x measured (noisy: model "
        f"calls dominate); classifier stage {stage:.3f} ms per input, "
        f"{share:.4f}x of the batch without them"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-scoring", action="store_true")
    args = parser.parse_args()
    bench_training(args.sizes)
    if not args.skip_scoring:
        bench_scoring(args.batch, args.repeats)


if __name__ == "__main__":
    main()
