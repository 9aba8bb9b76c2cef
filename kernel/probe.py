"""Worker liveness and readiness as files, for Kubernetes exec probes.

A worker process writes `ready` once its models are loaded, and its main
process refreshes `alive` every few seconds; a `celery beat` process refreshes
`beat` the same way. `python -m kernel.probe live|ready|beat` exits 0 or 1
accordingly; none needs the broker or the database, so a probe never piles
load on them.
"""

import os
import sys
import threading
import time
from pathlib import Path

ALIVE_EVERY_SECONDS = 10
ALIVE_WITHIN_SECONDS = 60
# The file each probe reads.
FILES = {"live": "alive", "ready": "ready", "beat": "beat"}


def state_dir() -> Path:
    """Where the probe files live (MODERATION_WORKER_STATE_DIR, default /tmp/moderation-worker)."""
    return Path(os.environ.get("MODERATION_WORKER_STATE_DIR", "/tmp/moderation-worker"))  # noqa: S108


def mark(name: str) -> None:
    """Create or refresh the probe file `name`."""
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(str(time.time()))


def clear() -> None:
    """Forget readiness (a worker starting up is not ready until its models load)."""
    for name in ("ready", "alive"):
        (state_dir() / name).unlink(missing_ok=True)


def start_heartbeat(name: str = "alive") -> threading.Thread:
    """Refresh the probe file `name` from a daemon thread for as long as the process runs."""

    def beat():
        while True:
            mark(name)
            time.sleep(ALIVE_EVERY_SECONDS)

    thread = threading.Thread(target=beat, name=f"probe-heartbeat-{name}", daemon=True)
    thread.start()
    return thread


def check(kind: str) -> tuple[bool, str]:
    """(ok, reason) for `live`, `ready` or `beat`."""
    path = state_dir() / FILES[kind]
    if not path.exists():
        return False, f"{path} does not exist yet"
    if kind in ("live", "beat"):
        age = time.time() - path.stat().st_mtime
        if age > ALIVE_WITHIN_SECONDS:
            return False, f"last heartbeat {age:.0f} s ago"
    return True, "ok"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in FILES:
        print("usage: python -m kernel.probe live|ready|beat", file=sys.stderr)
        return 2
    ok, reason = check(argv[0])
    print(f"{argv[0]}: {reason}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
