"""Benchmark the model adapters against bare library calls; prints a table and ratios.

    python bench/bench_clip.py [--quick]

Measures, on whatever device the registry would pick (CPU here):
- images/s of the CLIP ImageEncoder adapter vs a bare open_clip ``model.encode_image`` on
  the same preprocessed batch (tiny config and ViT-B-32, both random-initialised);
- load seconds of MiniLM, NudeNet, open_nsfw and tiny CLIP (torch already imported);
- sentences/s of the sentence encoder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from moderation.engine.models.clip import ClipEncoder, ClipSpec  # noqa: E402


def timed(function, repeats: int) -> float:
    """Return the median seconds of ``repeats`` calls after one warm-up call."""
    function()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def images(count: int) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [
        Image.fromarray(rng.integers(0, 256, (256, 320, 3), dtype=np.uint8)) for _ in range(count)
    ]


def bench_clip(model: str, batch: int, repeats: int) -> dict[str, float]:
    encoder = ClipEncoder(ClipSpec(model=model), device="cpu", batch_size=batch)
    pictures = images(batch)
    pixels = encoder.preprocess(pictures)
    bare_model = encoder._model

    def bare():
        with torch.inference_mode():
            bare_model.encode_image(pixels)

    bare_s = timed(bare, repeats)
    forward_s = timed(lambda: encoder.encode_pixels(pixels), repeats)
    preprocess_s = timed(lambda: encoder.preprocess(pictures), repeats)
    full_s = timed(lambda: encoder.encode_images(pictures), repeats)
    return {
        "bare": batch / bare_s,
        "forward": batch / forward_s,
        "full": batch / full_s,
        "preprocess": batch / preprocess_s,
        "overhead": forward_s / bare_s - 1.0,
    }


def bench_loads() -> dict[str, float]:
    from moderation.engine.models.nudenet import NudeNetScorer
    from moderation.engine.models.opennsfw import OpenNsfwScorer
    from moderation.engine.models.sentence import SentenceEncoder

    builders = {
        "MiniLM (SentenceEncoder)": SentenceEncoder,
        "NudeNet (NudeNetScorer)": NudeNetScorer,
        "open_nsfw (OpenNsfwScorer)": OpenNsfwScorer,
        "tiny CLIP (ClipEncoder mp-tiny)": ClipEncoder,
    }
    seconds = {}
    for name, build in builders.items():
        started = time.perf_counter()
        build()
        seconds[name] = time.perf_counter() - started
    return seconds


def bench_sentences(count: int) -> float:
    from moderation.engine.models.sentence import SentenceEncoder

    encoder = SentenceEncoder(device="cpu")
    texts = [f"a photo of item number {i} on a wooden table" for i in range(count)]
    return count / timed(lambda: encoder.encode(texts), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny CLIP only, fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, cpu cores {os.cpu_count()}"
    )
    print(
        "\n| model | batch | bare encode_image img/s | adapter forward img/s | "
        "adapter incl. preprocessing img/s | preprocessing alone img/s | forward overhead |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    runs = [("mp-tiny", 64)] + ([] if args.quick else [("ViT-B-32", 16)])
    for model, batch in runs:
        r = bench_clip(model, batch, repeats)
        print(
            f"| {model} random-init | {batch} | {r['bare']:.1f} | {r['forward']:.1f} | "
            f"{r['full']:.1f} | {r['preprocess']:.1f} | {r['overhead']:+.1%} |"
        )
    print("\n| model | load seconds |\n| --- | ---: |")
    for name, seconds in bench_loads().items():
        print(f"| {name} | {seconds:.2f} |")
    print(
        f"\nsentence encoder: {bench_sentences(512):.0f} sentences/s "
        "(512 short sentences, batch 64)"
    )


if __name__ == "__main__":
    main()
