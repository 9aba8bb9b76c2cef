"""`python -m moderation.fleet batch`: judge a manifest of prompts and images with one bundle.

    python -m moderation.fleet batch --manifest items.jsonl --out results.jsonl \\
        [--state-dir DIR | --bundle FILE] [--batch-size 32] [--workers 4]

Each manifest line is a JSON object `{"id": str, "prompt": str, "image": path}` (`id`
optional: the line number keys the item then; `image` a path, relative to the manifest's
folder, or a file:// URL). Each result line is `{"key", "line", "id", "action",
"decision"}` or, for a line that cannot be judged, `{"key", "line", "id", "error"}`.

- Same engine call as the service: evaluate_batch of the bundle on batches of
  --batch-size items, one model pass per stage and modality.
- Resumable: results already in --out are skipped by key, so a restarted run continues
  where it stopped and no item is judged twice (a half-written last line is dropped).
- Images are read and decoded in a thread pool, one batch ahead of the engine.
- A progress bar goes to stderr; the summary (counts per action, invalid lines with
  reasons) is printed and written to <out>.summary.json.
See docs/fleet-agent.md "Batch filter" for sharding across machines, Ray and Spark.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderation.engine.compiled import CompiledBundle, load_bundle
from moderation.engine.errors import EngineError
from moderation.engine.evaluate import evaluate_batch
from moderation.engine.images import ImageError, load_image
from moderation.engine.inputs import Item, coerce_item
from moderation.engine.providers import ModelProvider
from moderation.fleet.store import StateError, StateStore

MANIFEST_FIELDS = ("id", "prompt", "image")


class BatchError(Exception):
    """The run cannot start or go on (bundle, files, engine); the message says why."""


@dataclass
class Entry:
    """One manifest line: where it is, its key, and the item or why it cannot be judged."""

    line: int
    key: str
    id: str | None = None
    raw: dict | None = None
    item: Item | None = None
    error: str | None = None


@dataclass
class Summary:
    """What the output file holds after a run (previous runs included)."""

    total: int = 0
    judged_now: int = 0
    skipped_done: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    invalid: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "judged_now": self.judged_now,
                "skipped_done": self.skipped_done, "actions": dict(self.actions),
                "invalid_count": len(self.invalid), "invalid": self.invalid}  # fmt: skip


def run_batch(
    manifest: Path,
    out: Path,
    compiled: CompiledBundle,
    models: ModelProvider,
    *,
    batch_size: int = 32,
    workers: int = 4,
    progress: bool = True,
) -> Summary:
    """Judge every manifest line not yet in `out` and return the summary of `out`."""
    if batch_size < 1 or workers < 1:
        raise BatchError("--batch-size and --workers must be at least 1")
    models.check_pins(compiled.bundle.pins)
    done = _done_keys(out)
    root = manifest.parent
    summary = Summary(skipped_done=0)
    total_lines = _count_lines(manifest)
    bar = _progress(total_lines, progress)
    with ThreadPoolExecutor(workers, thread_name_prefix="decode") as pool, \
            out.open("a", encoding="utf-8") as sink:  # fmt: skip
        pending: list[Future] | None = None
        for chunk in _chunks(_entries(manifest, done, summary, bar), batch_size):
            prepared = [pool.submit(_prepare, entry, root) for entry in chunk]
            if pending is not None:
                summary.judged_now += _judge(pending, compiled, models, sink, bar)
            pending = prepared  # decoded while the previous batch is in the engine
        if pending is not None:
            summary.judged_now += _judge(pending, compiled, models, sink, bar)
    bar.close()
    return _summarise(out, summary)


def _judge(futures, compiled, models, sink, bar) -> int:
    entries = [f.result() for f in futures]
    valid = [e for e in entries if e.error is None]
    try:
        items = [e.item for e in valid]
        decisions = evaluate_batch(compiled, items, models=models) if valid else []
    except EngineError as exc:
        raise BatchError(
            f"the engine failed on lines {valid[0].line}-{valid[-1].line}: {exc}; what was "
            "judged before is kept, run again to continue"
        ) from None
    by_line = {e.line: d for e, d in zip(valid, decisions, strict=True)}
    for entry in entries:
        record: dict[str, Any] = {"key": entry.key, "line": entry.line, "id": entry.id}
        if entry.error is not None:
            record["error"] = entry.error
        else:
            decision = by_line[entry.line]
            record.update(action=decision.action.value, decision=decision.as_dict())
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    sink.flush()
    os.fsync(sink.fileno())
    bar.update(len(entries))
    return len(entries)


def _entries(manifest: Path, done: set[str], summary: Summary, bar) -> Iterator[Entry]:
    seen: set[str] = set()
    with manifest.open("rb") as handle:
        for n, raw_line in enumerate(handle, start=1):
            if not raw_line.strip():
                bar.update(1)
                continue
            entry = _parse_line(n, raw_line)
            if entry.key in seen:
                entry = Entry(n, f"line:{n}", entry.id,
                              error=f"duplicate id {entry.id!r}; ids must be unique")  # fmt: skip
            seen.add(entry.key)
            if entry.key in done:
                summary.skipped_done += 1
                bar.update(1)
                continue
            yield entry


def _parse_line(n: int, raw_line: bytes) -> Entry:
    try:
        data = json.loads(raw_line)
    except ValueError as exc:
        return Entry(n, f"line:{n}", error=f"not JSON ({exc})")
    if not isinstance(data, dict):
        return Entry(n, f"line:{n}", error='not a JSON object: {"id", "prompt", "image"}')
    ident = data.get("id")
    if ident is not None and not isinstance(ident, str | int):
        return Entry(n, f"line:{n}", error="id must be a string or a number")
    ident = None if ident is None else str(ident)
    entry = Entry(n, f"id:{ident}" if ident is not None else f"line:{n}", ident, data)
    unknown = sorted(set(data) - set(MANIFEST_FIELDS))
    if unknown:
        entry.error = f"unknown field {unknown[0]!r}; use {', '.join(MANIFEST_FIELDS)}"
    elif data.get("prompt") is None and data.get("image") is None:
        entry.error = "nothing to judge: give a prompt, an image or both"
    elif data.get("prompt") is not None and not isinstance(data["prompt"], str):
        entry.error = "prompt must be a string"
    elif data.get("image") is not None and not isinstance(data["image"], str):
        entry.error = "image must be a path or a file:// URL"
    return entry


def _prepare(entry: Entry, root: Path) -> Entry:
    """Read and decode the entry's image and validate the item (runs in the pool)."""
    if entry.error is not None:
        return entry
    image = None
    if entry.raw.get("image") is not None:
        path = _image_path(entry.raw["image"], root)
        try:
            image = load_image(path, name=entry.raw["image"])
        except ImageError as exc:
            entry.error = str(exc)
            return entry
        except OSError as exc:
            entry.error = f"cannot read image {entry.raw['image']!r}: {exc.strerror or exc}"
            return entry
    try:
        entry.item = coerce_item(Item(entry.raw.get("prompt"), image))
    except EngineError as exc:
        entry.error = str(exc)
    return entry


def _image_path(value: str, root: Path) -> Path:
    if value.startswith("file://"):
        return Path(urllib.parse.unquote(urllib.parse.urlsplit(value).path))
    path = Path(value)
    return path if path.is_absolute() else root / path


def _chunks(entries: Iterator[Entry], size: int) -> Iterator[list[Entry]]:
    chunk: list[Entry] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _done_keys(out: Path) -> set[str]:
    """Keys already in `out`; a half-written last line (a killed run) is cut off."""
    if not out.exists():
        return set()
    data = out.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with out.open("r+b") as handle:
            handle.truncate(cut)
        data = data[:cut]
    keys = set()
    for n, line in enumerate(data.splitlines(), start=1):
        try:
            keys.add(json.loads(line)["key"])
        except (ValueError, KeyError, TypeError):
            raise BatchError(
                f"{out} line {n} is not a result of this command; give another --out"
            ) from None
    return keys


def _summarise(out: Path, summary: Summary) -> Summary:
    actions: Counter[str] = Counter()
    with out.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            summary.total += 1
            if "error" in record:
                summary.invalid.append(
                    {"line": record["line"], "id": record["id"], "reason": record["error"]}
                )
            else:
                actions[record["action"]] += 1
    summary.actions = dict(sorted(actions.items()))
    return summary


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="item", file=sys.stderr, disable=not enabled, smoothing=0.1)


def load_compiled(*, bundle: str | None, state_dir: str | None) -> CompiledBundle:
    """The bundle to judge with: a canonical bundle file, or the agent's active one."""
    try:
        if bundle:
            return load_bundle(Path(bundle).read_bytes())
        if not state_dir:
            raise BatchError("give --bundle FILE or --state-dir DIR (or FLEET_STATE_DIR)")
        loaded = StateStore(state_dir).load()
        if loaded is None:
            raise BatchError(f"no bundle is persisted in {state_dir}; run the agent first")
        meta, body = loaded
        return load_bundle(body, sha256=meta.sha256)
    except OSError as exc:
        raise BatchError(f"cannot read the bundle: {exc.strerror or exc}") from None
    except (StateError, EngineError) as exc:
        raise BatchError(f"the bundle cannot be used: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m moderation.fleet batch",
        description="Judge a JSONL manifest with one bundle, resumably (docs/fleet-agent.md).",
    )
    p.add_argument("--manifest", required=True, help="JSONL: {id, prompt, image} per line")
    p.add_argument("--out", required=True, help="JSONL results; an existing file is resumed")
    p.add_argument("--bundle", help="canonical bundle file to judge with")
    p.add_argument("--state-dir", default=os.environ.get("FLEET_STATE_DIR"),
                   help="the agent's state folder: judge with its active bundle "
                        "[env FLEET_STATE_DIR]")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=32, help="items per engine call (32)")
    p.add_argument("--workers", type=int, default=4, help="image decode threads (4)")
    p.add_argument("--summary", help="where the summary JSON goes (<out>.summary.json)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None, models: ModelProvider | None = None) -> int:
    """Entry point of the batch subcommand; 0 done, 1 the run stopped, 2 bad arguments."""
    args = build_parser().parse_args(argv)
    manifest, out = Path(args.manifest), Path(args.out)
    try:
        if not manifest.is_file():
            raise BatchError(f"--manifest {manifest}: no such file")
        compiled = load_compiled(bundle=args.bundle, state_dir=args.state_dir)
        if models is None:
            from moderation.engine.models.registry import RegistryConfig, configure_registry

            models = configure_registry(RegistryConfig.from_env().with_catalogue_examples())
        summary = run_batch(manifest, out, compiled, models, batch_size=args.batch_size,
                            workers=args.workers, progress=not args.no_progress)  # fmt: skip
    except BatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(summary.as_dict(), indent=2)
    Path(args.summary or f"{out}.summary.json").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
