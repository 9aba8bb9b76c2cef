"""OCR cost (issue 18): the adapter against the bare rapidocr call, and the pipeline with OCR.

1. Per image at 512 and 1024 px (rendered text, on CPU): OcrReader.read_one (RGB PIL in,
   uniform check, downscale, boxes mapped back) against RapidOCR's own call, with the same
   settings, on the same image as a BGR array, rounds alternating so both see the same
   load. The ratio is the median of the rounds' (bare time / adapter time): 1.0x means the
   adapter adds nothing. Target >= 0.9x.
2. Full pipeline (evaluate_batch with the model registry: NudeNet, open_nsfw and the
   image stage's categories) in images/s with a keyword set on image text (OCR on) and
   without it (OCR off), alternating rounds; the ratio is on/off.

Run: python bench/bench_ocr.py [--rounds 5] [--batch 4]
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

from moderation.engine.bundle import (  # noqa: E402
    Bundle,
    CategoryOutputs,
    CategoryThreshold,
    KeywordSet,
    MatchOptions,
    PolicyInfo,
)
from moderation.engine.compiled import compile_bundle  # noqa: E402
from moderation.engine.decision import Action  # noqa: E402
from moderation.engine.evaluate import evaluate_batch  # noqa: E402
from moderation.engine.models.ocr import OcrReader, rapidocr_options  # noqa: E402
from moderation.engine.models.registry import ModelRegistry, RegistryConfig  # noqa: E402
from tests.images import text_image  # noqa: E402

LINES = ["play at the casino", "tonight only", "free chips for all"]


def image(px: int):
    font = max(16, px // 14)
    return text_image(LINES, size=(px, px), font_px=font)


def bare_engine(reader: OcrReader):
    """RapidOCR with the reader's settings, called directly (what the adapter wraps)."""
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(**rapidocr_options(reader.min_confidence, reader.max_side))


def per_image(reader: OcrReader, bare, px: int, rounds: int) -> tuple[float, float, float]:
    """Median adapter ms, median bare ms, median of per-round (bare / adapter)."""
    picture = image(px)
    bgr = np.ascontiguousarray(np.asarray(picture)[:, :, ::-1])
    reader.read_one(picture), bare(bgr)  # warm both
    ours, theirs, ratios = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        reader.read_one(picture)
        a = time.perf_counter() - start
        start = time.perf_counter()
        bare(bgr)
        b = time.perf_counter() - start
        ours.append(a * 1000)
        theirs.append(b * 1000)
        ratios.append(b / a)
    return statistics.median(ours), statistics.median(theirs), statistics.median(ratios)


def pipeline_bundles(registry: ModelRegistry):
    pins = registry.pins()
    outputs = ("nudenet.FEMALE_BREAST_EXPOSED", "opennsfw.nsfw")
    parts = {
        "policy": PolicyInfo("bench", "default", "Bench", 1, 1),
        "pins": {name: pins[name] for name in ("nudenet", "opennsfw", "ocr")},
        "category_outputs": {"nudity": CategoryOutputs(image=outputs)},
        "thresholds": (CategoryThreshold("nudity:image", "nudity", "image", 0.5, 0.8),),
    }
    casino = KeywordSet("kw", "Gambling", Action.BLOCK, ("casino",), (), MatchOptions(),
                        applies_to="image_text")  # fmt: skip
    with_ocr = compile_bundle(Bundle.create(**parts, keyword_sets=(casino,)))
    without = compile_bundle(Bundle.create(**parts))
    return with_ocr, without


def images_per_second(bundle, registry, images) -> float:
    start = time.perf_counter()
    evaluate_batch(bundle, [{"image": i} for i in images], models=registry)
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()

    reader = OcrReader(max_side=1024)
    bare = bare_engine(reader)
    print("OCR per image on CPU (rendered text, 3 lines), adapter vs bare rapidocr call:")
    for px in (512, 1024):
        ours, theirs, ratio = per_image(reader, bare, px, args.rounds)
        print(f"  {px:>4} px: adapter {ours:7.1f} ms, bare {theirs:7.1f} ms, ratio {ratio:.2f}x")

    registry = ModelRegistry(RegistryConfig(device="cpu", enable_clip_zero_shot=False))
    with_ocr, without = pipeline_bundles(registry)
    images = [image(512) for _ in range(args.batch)]
    evaluate_batch(with_ocr, [{"image": images[0]}], models=registry)  # load every model
    on, off = [], []
    for _ in range(args.rounds):
        on.append(images_per_second(with_ocr, registry, images))
        off.append(images_per_second(without, registry, images))
    ratios = [a / b for a, b in zip(on, off, strict=True)]
    print(f"Full pipeline, batches of {args.batch} images of 512 px (NudeNet, open_nsfw):")
    print(f"  OCR off {statistics.median(off):6.2f} images/s")
    print(
        f"  OCR on  {statistics.median(on):6.2f} images/s, ratio {statistics.median(ratios):.2f}x"
    )


if __name__ == "__main__":
    main()
