"""Decision batches the server has not taken yet, on disk up to a byte cap (oldest dropped).

Layout: `<state dir>/decisions/<seq>.<batch id>.<records>.<dropped>.json`, the exact body
that is (re)sent, so a retry carries the same batch id and the server stores it once.
Each file is written to a temporary name, fsynced and renamed: a crash leaves whole
batches or none. Sequence numbers keep the order across restarts; the oldest goes first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("moderation.fleet.decisions")

_NAME = re.compile(r"^(\d{12})\.([A-Za-z0-9_-]{1,64})\.(\d+)\.(\d+)\.json$")


@dataclass(frozen=True)
class Batch:
    """One upload: its id, the body as sent, and what it holds (for stats and drop counts)."""

    batch_id: str
    body: bytes
    records: int
    dropped: int  # the drops this batch reports to the server


@dataclass(frozen=True)
class _Entry:
    seq: int
    batch_id: str
    records: int
    dropped: int
    size: int

    @property
    def name(self) -> str:
        return f"{self.seq:012d}.{self.batch_id}.{self.records}.{self.dropped}.json"


class Spool:
    """A FIFO of batches in `directory` (or in memory when None), at most `max_bytes`."""

    def __init__(self, directory: str | Path | None, *, max_bytes: int) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._memory: dict[str, bytes] = {}
        self._entries: list[_Entry] = self._scan()
        self._seq = max((e.seq for e in self._entries), default=0) + 1
        self.unreadable = 0  # records (with their drop counts) of files that could not be read

    def _scan(self) -> list[_Entry]:
        if self.directory is None or not self.directory.is_dir():
            return []
        entries = []
        for path in self.directory.iterdir():
            match = _NAME.match(path.name)
            if match is None:
                continue  # temporary files of a crashed write, or foreign files
            seq, batch_id, records, dropped = match.groups()
            size = path.stat().st_size
            entries.append(_Entry(int(seq), batch_id, int(records), int(dropped), size))
        return sorted(entries, key=lambda e: e.seq)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return sum(e.size for e in self._entries)

    @property
    def records(self) -> int:
        return sum(e.records for e in self._entries)

    def put(self, batch: Batch) -> int:
        """Keep `batch`; return how many records (with their own drop counts) fell off the cap.

        A batch that cannot be written (disk full) counts as dropped too.
        """
        with self._lock:
            entry = _Entry(self._seq, batch.batch_id, batch.records, batch.dropped, len(batch.body))
            self._seq += 1
            try:
                self._write(entry, batch.body)
            except OSError as exc:
                log.error("cannot spill decision batch %s: %s", batch.batch_id, exc)
                return batch.records + batch.dropped
            self._entries.append(entry)
            lost = 0
            while self._entries and sum(e.size for e in self._entries) > self.max_bytes:
                oldest = self._entries.pop(0)
                self._remove(oldest)
                lost += oldest.records + oldest.dropped
                log.warning("decision spool over %s bytes: dropped batch %s (%s records)",
                            self.max_bytes, oldest.batch_id, oldest.records)  # fmt: skip
            return lost

    def oldest(self) -> Batch | None:
        """Return the oldest batch (still kept until `remove`), or None when empty."""
        with self._lock:
            while self._entries:
                entry = self._entries[0]
                try:
                    body = self._read(entry)
                except OSError as exc:
                    log.error("unreadable spilled batch %s dropped: %s", entry.name, exc)
                    self._entries.pop(0)
                    self.unreadable += entry.records + entry.dropped
                    continue
                return Batch(entry.batch_id, body, entry.records, entry.dropped)
            return None

    def remove(self, batch_id: str) -> None:
        """Forget the batch `batch_id` (sent, or refused for good)."""
        with self._lock:
            for entry in [e for e in self._entries if e.batch_id == batch_id]:
                self._entries.remove(entry)
                self._remove(entry)

    def _write(self, entry: _Entry, body: bytes) -> None:
        if self.directory is None:
            self._memory[entry.name] = body
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".batch.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.directory / entry.name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _read(self, entry: _Entry) -> bytes:
        if self.directory is None:
            return self._memory[entry.name]
        return (self.directory / entry.name).read_bytes()

    def _remove(self, entry: _Entry) -> None:
        if self.directory is None:
            self._memory.pop(entry.name, None)
            return
        with contextlib.suppress(OSError):
            (self.directory / entry.name).unlink(missing_ok=True)
