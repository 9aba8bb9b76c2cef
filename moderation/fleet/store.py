"""The state directory: the last good bundle, written so that a crash never leaves half of it.

Layout (see docs/fleet-agent.md):

    <state dir>/bundles/<sha256>.bundle   the canonical bytes, content-addressed
    <state dir>/active.json               which bundle is active, with its version and signatures

Each file is written to a temporary name, fsynced and renamed; `active.json` is renamed
last, so it only ever names a bundle file that is complete on disk. The previous bundle
file is removed only after the new `active.json` is in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StateError(Exception):
    """The state directory cannot be read or written; the message names the file and why."""


@dataclass(frozen=True)
class Persisted:
    """What active.json records about the bundle the agent last activated."""

    policy: str
    channel: str
    version: int | None
    sha256: str
    etag: str
    signatures: str  # the X-Bundle-Signatures header the bundle arrived with
    saved_at: float


class StateStore:
    """Reads and atomically writes the last good bundle of one policy channel."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    @property
    def pointer(self) -> Path:
        return self.directory / "active.json"

    def bundle_path(self, sha256: str) -> Path:
        """Return where the bytes of `sha256` live."""
        if not _SHA256.match(sha256):
            raise StateError(f"{sha256!r} is not a lower-case hex sha256")
        return self.directory / "bundles" / f"{sha256}.bundle"

    def save(self, meta: Persisted, body: bytes) -> None:
        """Write `body`, then point active.json at it; on StateError the old state is intact."""
        try:
            old = self._current_sha()
            target = self.bundle_path(meta.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(target, body)
            _write_atomic(self.pointer, json.dumps(asdict(meta), indent=2).encode())
        except OSError as exc:
            raise StateError(
                f"cannot write the bundle to {self.directory}: {exc.strerror or exc}; "
                "the agent keeps its previous bundle"
            ) from exc
        if old and old != meta.sha256 and _SHA256.match(old):
            # Best effort: a leftover file wastes space but never changes what is active.
            with contextlib.suppress(OSError):
                self.bundle_path(old).unlink(missing_ok=True)

    def load(self) -> tuple[Persisted, bytes] | None:
        """Return the persisted pointer and bytes (None if nothing saved); raises StateError."""
        if not self.pointer.exists():
            return None
        try:
            meta = Persisted(**json.loads(self.pointer.read_text(encoding="utf-8")))
            body = self.bundle_path(meta.sha256).read_bytes()
        except OSError as exc:
            raise StateError(f"cannot read the persisted bundle: {exc.strerror or exc}") from exc
        except (ValueError, TypeError) as exc:
            raise StateError(f"{self.pointer} is not a valid state file ({exc})") from exc
        return meta, body

    def _current_sha(self) -> str | None:
        try:
            return json.loads(self.pointer.read_text(encoding="utf-8")).get("sha256")
        except (OSError, ValueError, AttributeError):
            return None


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a fsynced temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
