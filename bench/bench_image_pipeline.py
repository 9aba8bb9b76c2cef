"""Images/s of the full pipeline from JPEG against bare open_clip encode_image (issue 15, GPU).

    $(scripts/ensure-venv)/bin/python bench/bench_image_pipeline.py --device cuda \\
        [--precision auto] [--batches 8,16,32,64,128] [--images 1024] [--clip-model ViT-B-32]

For each batch size it times:
- the full pipeline: the batch filter (moderation.fleet.batch.run_batch) over a manifest of
  JPEG files: a thread pool reads and decodes the next batch while the engine judges the
  current one with every image model of the registry (CLIP for a concept, NudeNet,
  open_nsfw; bench_serving's bundle), results written and fsynced;
- bare open_clip: `model.encode_image` of the same architecture on one batch of the same
  size already preprocessed and on the device, under inference_mode (and autocast to the
  registry's half precision on CUDA), synchronised before the clock stops.

It prints a table and the ratio at the batch size where the pipeline is fastest. The
clock of the bare side includes no decoding, resizing or copying: the ratio is what the
rest of the pipeline (decode, preprocessing, NudeNet, open_nsfw, rules, JSON) costs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.bench_serving import build_bundle, jpeg  # noqa: E402


def build_models(device: str, precision: str, clip_model: str):
    from moderation.engine.models.registry import RegistryConfig, configure_registry

    config = RegistryConfig(device=device, precision=precision, clip_model=clip_model)
    return configure_registry(config.with_catalogue_examples())


def pipeline_rate(folder: Path, compiled, models, batch: int, count: int) -> float:
    from moderation.fleet.batch import run_batch

    manifest, out = folder / f"manifest-{batch}.jsonl", folder / f"out-{batch}.jsonl"
    manifest.write_text("".join(json.dumps({"id": str(i), "image": f"{i % 64}.jpg"}) + "\n"
                                for i in range(count)))  # fmt: skip
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    run_batch(manifest, out, compiled, models, batch_size=batch, progress=False)
    return count / (time.perf_counter() - start)


def bare_rate(encoder, pictures, batch: int, seconds: float) -> float:
    import torch

    model, placement = encoder._model, encoder.placement
    pixels = encoder.preprocess(pictures[:batch]).to(placement.device)

    def once():
        with torch.inference_mode(), placement.autocast():
            model.encode_image(pixels)
        if placement.cuda:
            torch.cuda.synchronize()

    once()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        once()
        done += batch
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (auto)")
    parser.add_argument("--precision", default="auto", help="auto, fp32, fp16 or bf16 (auto)")
    parser.add_argument("--batches", default="8,16,32,64,128")
    parser.add_argument("--images", type=int, default=1024, help="images per pipeline run")
    parser.add_argument("--seconds", type=float, default=5.0, help="per bare measurement")
    parser.add_argument("--clip-model", default=os.environ.get("MODERATION_CLIP_MODEL", "ViT-B-32"))
    parser.add_argument("--size", type=int, default=512, help="JPEG side in pixels (512)")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]

    from moderation.engine.compiled import compile_bundle
    from moderation.engine.images import load_image

    models = build_models(args.device, args.precision, args.clip_model)
    compiled = compile_bundle(build_bundle(models))
    encoder = models.image_encoder()
    info = models.device_info()
    print(f"device {info['device']} {info.get('gpu', '')}, precision {info['precision']}, "
          f"torch {info['torch']}, onnxruntime providers {info['onnxruntime_providers']}, "
          f"CLIP {args.clip_model} (random-init unless MODERATION_CLIP_PRETRAINED)")  # fmt: skip
    rng = np.random.default_rng(7)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(64):
            (folder / f"{i}.jpg").write_bytes(jpeg(rng, args.size))
        pictures = [load_image((folder / f"{i}.jpg").read_bytes()) for i in range(64)]
        pictures = (pictures * (max(batches) // 64 + 1))[: max(batches)]
        pipeline_rate(folder, compiled, models, batches[0], batches[0])  # warm-up
        for batch in batches:
            full = pipeline_rate(folder, compiled, models, batch, max(args.images, batch))
            bare = bare_rate(encoder, pictures, batch, args.seconds)
            rows.append((batch, full, bare))
            print(f"batch {batch}: pipeline {full:.1f} img/s, bare encode_image {bare:.1f} img/s",
                  file=sys.stderr, flush=True)  # fmt: skip
    print("\n| batch | full pipeline from JPEG img/s | bare open_clip encode_image img/s | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    for batch, full, bare in rows:
        print(f"| {batch} | {full:.1f} | {bare:.1f} | {full / bare:.3f} |")
    batch, full, bare = max(rows, key=lambda row: row[1])
    print(f"\nbest batch {batch}: pipeline {full:.1f} img/s, bare {bare:.1f} img/s, "
          f"ratio {full / bare:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
