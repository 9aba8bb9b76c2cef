"""The moderation service against the engine it serves, ratios in one run, same bundle.

    $(scripts/ensure-venv)/bin/python bench/bench_serving.py [--seconds 15] [--items 512]
        [--latency] [--sweep]

With the CPU model registry (MiniLM, the text category model, NudeNet, OpenNSFW, CLIP as
configured) and one bundle using every rule kind, it measures:

1. prompts: in-process evaluate_batch at the prompt stage's batch size, then the service
   (uvicorn on loopback) with 32 concurrent clients; the ratio of the two throughputs.
2. prompt + JPEG image (all_scores, so the cascade saves nothing): the same, against
   evaluate_batch at the image stage's batch size, on decoded images.
3. latency: a lone client's p50 and the p99 of an open-loop load at 50% of the peak
   measured in 1 (requests started on a fixed schedule), in alternating windows pooled
   per side; the ratio p99 / lone p50. `--latency` runs only the peak and this.
4. the batch filter (run_batch) over a manifest of prompts and JPEG files against bare
   evaluate_batch over the same items, decoded beforehand, at the same batch size.

The clients run in a subprocess (httpx, asyncio), so they share the CPUs but not the GIL
of the server. Prints a table; docs/benchmarks.md holds the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import prompts as corpus_prompts  # noqa: E402

PROMPT_BATCH, IMAGE_BATCH = 32, 16  # the service's defaults (moderation.fleet.batching)


# Clients (run in a subprocess) ----------------------------------------------------------


async def _client_main(args) -> None:
    import httpx

    payloads = [json.loads(line) for line in Path(args.payloads).read_text().splitlines()]
    latencies: list[float] = []
    errors: dict[int, int] = {}
    limits = httpx.Limits(max_connections=max(args.concurrency, 64))
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=60) as client:

        async def one(i: int) -> None:
            start = time.perf_counter()
            r = await client.post("/v1/check", json=payloads[i % len(payloads)])
            if r.status_code == 200:
                latencies.append(time.perf_counter() - start)
            else:
                errors[r.status_code] = errors.get(r.status_code, 0) + 1

        for i in range(min(8, len(payloads))):  # warm the connections
            await one(i)
        latencies.clear()
        start = time.perf_counter()
        until = start + args.seconds
        if args.rate:
            tasks, i = [], 0
            while (now := time.perf_counter()) < until:
                tasks.append(asyncio.create_task(one(i)))
                i += 1
                await asyncio.sleep(max(0.0, start + i / args.rate - now))
            await asyncio.gather(*tasks)
        else:
            counter = iter(range(10**9))

            async def loop() -> None:
                while time.perf_counter() < until:
                    await one(next(counter))

            await asyncio.gather(*(loop() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - start
    print(json.dumps({"n": len(latencies), "elapsed": elapsed, "errors": errors,
                      "latencies": latencies}))  # fmt: skip


def run_clients(url, payload_file, *, seconds, concurrency=32, rate=None) -> dict:
    cmd = [sys.executable, __file__, "--client", "--url", url, "--payloads", str(payload_file),
           "--seconds", str(seconds), "--concurrency", str(concurrency)]  # fmt: skip
    if rate:
        cmd += ["--rate", str(rate)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# Server side ----------------------------------------------------------------------------


def build_models(device: str = "cpu", torch_threads: int | None = None):
    from moderation.engine.models.registry import RegistryConfig, configure_registry

    config = RegistryConfig(device=device, torch_threads=torch_threads)
    return configure_registry(config.with_catalogue_examples())


def build_bundle(models):
    from moderation.engine.bundle import (
        Bundle,
        CategoryOutputs,
        CategoryThreshold,
        Concept,
        EmbeddingSet,
        KeywordSet,
        PolicyInfo,
    )  # fmt: skip
    from moderation.engine.decision import Action
    from moderation.engine.embedding_rules import embedding_set_vectors

    text, image = models.text_encoder(), models.image_encoder()
    prompt_outputs = tuple(o for s in models.scorers("prompt") for o in s.outputs)
    image_outputs = tuple(o for s in models.scorers("image") for o in s.outputs)
    examples = ["buy illegal guns online", "untraceable firearm for sale"]
    vectors, counters = embedding_set_vectors(text, examples, ["toy water gun"])
    proto = np.random.default_rng(3).standard_normal(image.dim).astype(np.float32)
    proto /= np.linalg.norm(proto)
    names = {"minilm", "clip"} | {o.partition(".")[0] for o in prompt_outputs + image_outputs}
    pins = {n: p for n, p in models.pins().items() if n in names}
    return Bundle.create(
        policy=PolicyInfo("bench", "bench", "Bench policy", 1, 1),
        pins=pins,
        dims={text.pin.name: text.dim, image.pin.name: image.dim},
        category_outputs={"bench-text": CategoryOutputs(prompt=prompt_outputs),
                          "bench-image": CategoryOutputs(image=image_outputs)},
        thresholds=(CategoryThreshold("t-text", "bench-text", "prompt", 0.98, 0.99),
                    CategoryThreshold("t-image", "bench-image", "image", 0.98, 0.99)),
        keyword_sets=(KeywordSet("kw", "Adult words", Action.BLOCK, ("sex", "porn")),),
        embedding_sets=(EmbeddingSet("emb", "Guns", Action.REVIEW, 0.8, text.pin.name,
                                     tuple(examples), vectors, ("toy water gun",), counters),),
        concepts=(Concept("c", "Bench concept", Action.REVIEW, "prototype", 0.99,
                          image.pin.name, proto),),
    )  # fmt: skip


def build_agent(models, compiled, state: Path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from moderation.fleet.agent import Active, FleetAgent
    from moderation.fleet.client import FleetClient
    from moderation.fleet.keys import TrustedKeys
    from moderation.fleet.store import StateStore
    from moderation.fleet.verify import Scope

    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    agent = FleetAgent(
        client=FleetClient("http://127.0.0.1:9", "unused"), keys=TrustedKeys({"k": raw}),
        scope=Scope("bench", "production", "bench"), store=StateStore(state), models=models,
        instance_id="bench",
    )  # fmt: skip
    # No fleet server in this bench: the bundle is activated directly, as a poll would.
    agent._swap(Active(compiled, "bench", "", time.time()))
    return agent


def jpeg(rng: np.random.Generator, size: int = 256) -> bytes:
    from PIL import Image

    pixels = rng.integers(0, 255, (size // 8, size // 8, 3), dtype=np.uint8)
    image = Image.fromarray(pixels).resize((size, size))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def throughput(fn, items, batch: int, seconds: float) -> float:
    """Items per second of fn(batch of items), repeated over `items` for about `seconds`."""
    done, start, i = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        chunk = items[i : i + batch]
        fn(chunk)
        done += len(chunk)
        i = (i + batch) % len(items)
    return done / (time.perf_counter() - start)


def note(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def pct(values, q) -> float:
    return float(np.percentile(np.array(values), q)) * 1000.0 if values else float("nan")


# Throughput runs measure capacity, not deadlines: the queue and deadline are out of the way.
BENCH_BATCH = {"max_queue": 4096, "default_deadline_ms": 60000.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--items", type=int, default=512, help="batch filter manifest size")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="the tuning table instead: prompt batch size, wait, queue, deadline",
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="only the latency figure: the prompt peak, a lone client, then 50%% of the peak",
    )
    parser.add_argument(
        "--compare-wait",
        action="store_true",
        help="with --latency: also a service whose stages always wait max_wait_ms (A/B)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (cpu)")
    parser.add_argument(
        "--torch-threads", type=int, help="torch intra-op threads (MODERATION_TORCH_THREADS)"
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--payloads", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=32, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(_client_main(args))
        return

    from moderation.engine.compiled import compile_bundle
    from moderation.engine.evaluate import evaluate_batch
    from moderation.engine.images import load_image
    from moderation.engine.inputs import Item
    from moderation.fleet.batch import run_batch
    from moderation.fleet.batching import BatchSettings
    from moderation.fleet.service import ModerationService, RunningServer, ServiceSettings

    models = build_models(args.device, args.torch_threads)
    compiled = compile_bundle(build_bundle(models))
    texts, _ = corpus_prompts(200_000, ["sex"])
    texts = texts[:1024]
    from bench.serving_latency import latency_only, latency_runs, print_latency, sweep

    if args.sweep:
        sweep(models, compiled, texts, args.seconds)
        return
    if args.latency:
        latency_only(models, compiled, texts, args.seconds, compare_wait=args.compare_wait)
        return
    rng = np.random.default_rng(5)
    jpegs = [jpeg(rng) for _ in range(32)]
    images = [load_image(j) for j in jpegs]
    rows = []

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        agent = build_agent(models, compiled, tmp / "state")
        settings = ServiceSettings(batch=BatchSettings(**BENCH_BATCH))
        server = RunningServer(ModerationService(agent, settings).app)
        prompt_file, image_file = tmp / "prompts.jsonl", tmp / "images.jsonl"
        prompt_file.write_text("".join(json.dumps({"prompt": t}) + "\n" for t in texts))
        image_file.write_text("".join(
            json.dumps({"prompt": t, "image_base64": base64.b64encode(jpegs[i % 32]).decode(),
                        "all_scores": True}) + "\n"
            for i, t in enumerate(texts[:256])
        ))  # fmt: skip

        def engine(batch_items):
            evaluate_batch(compiled, batch_items, models=models)

        prompt_items = [Item(t, None) for t in texts]
        image_items = [Item(t, images[i % 32]) for i, t in enumerate(texts[:256])]
        seconds = args.seconds
        note("prompts: in-process")
        base_p = throughput(engine, prompt_items, PROMPT_BATCH, seconds)
        note("prompts: service")
        svc_p = run_clients(server.url, prompt_file, seconds=seconds)
        peak = svc_p["n"] / svc_p["elapsed"]
        rows.append(("prompts, 32 clients", base_p, peak, svc_p["errors"]))
        note("prompt + image: in-process")
        base_i = throughput(engine, image_items, IMAGE_BATCH, seconds)
        note("prompt + image: service")
        svc_i = run_clients(server.url, image_file, seconds=seconds)
        rows.append(("prompt + image, 32 clients", base_i, svc_i["n"] / svc_i["elapsed"],
                     svc_i["errors"]))  # fmt: skip
        lone, half = latency_runs(server.url, prompt_file, peak, seconds)
        server.stop()

        note("batch filter")
        manifest = tmp / "manifest.jsonl"
        for i, data in enumerate(jpegs):
            (tmp / f"{i}.jpg").write_bytes(data)
        lines = [{"id": str(i), "prompt": texts[i % len(texts)], "image": f"{i % 32}.jpg"}
                 for i in range(args.items)]  # fmt: skip
        manifest.write_text("".join(json.dumps(ln) + "\n" for ln in lines))
        filter_items = [Item(ln["prompt"], images[i % 32]) for i, ln in enumerate(lines)]
        start = time.perf_counter()
        for i in range(0, len(filter_items), PROMPT_BATCH):
            engine(filter_items[i : i + PROMPT_BATCH])
        bare = len(filter_items) / (time.perf_counter() - start)
        start = time.perf_counter()
        run_batch(manifest, tmp / "out.jsonl", compiled, models, batch_size=PROMPT_BATCH,
                  progress=False)  # fmt: skip
        filtered = len(filter_items) / (time.perf_counter() - start)

    print(f"{'measure':<28} {'in-process':>12} {'service':>10} {'ratio':>7}  errors")
    for name, base, svc, errors in rows:
        print(f"{name:<28} {base:>10.1f}/s {svc:>8.1f}/s {svc / base:>6.2f}x  {errors or ''}")
    print(f"{'batch filter':<28} {bare:>10.1f}/s {filtered:>8.1f}/s {filtered / bare:>6.2f}x")
    print_latency(lone, half, peak)
    print(f"(service p50 / p99 at 32 clients: prompts {pct(svc_p['latencies'], 50):.0f} / "
          f"{pct(svc_p['latencies'], 99):.0f} ms, images {pct(svc_i['latencies'], 50):.0f} / "
          f"{pct(svc_i['latencies'], 99):.0f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
