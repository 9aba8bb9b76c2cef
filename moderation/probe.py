"""Worker liveness and readiness as files, for Kubernetes exec probes.

A worker process writes `ready` once its models are loaded, and its main
process refreshes `alive` every few seconds. `python -m moderation.probe live`
and `python -m moderation.probe ready` exit 0 or 1 accordingly; neither needs
the broker or the database, so a probe never piles load on them.
"""

import os
import sys
import threading
import time
from pathlib import Path

ALIVE_EVERY_SECONDS = 10
ALIVE_WITHIN_SECONDS = 60


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


def start_heartbeat() -> threading.Thread:
    """Refresh `alive` from a daemon thread for as long as the process runs."""

    def beat():
        while True:
            mark("alive")
            time.sleep(ALIVE_EVERY_SECONDS)

    thread = threading.Thread(target=beat, name="probe-heartbeat", daemon=True)
    thread.start()
    return thread


def check(kind: str) -> tuple[bool, str]:
    """(ok, reason) for `live` or `ready`."""
    path = state_dir() / ("alive" if kind == "live" else "ready")
    if not path.exists():
        return False, f"{path} does not exist yet"
    if kind == "live":
        age = time.time() - path.stat().st_mtime
        if age > ALIVE_WITHIN_SECONDS:
            return False, f"last heartbeat {age:.0f} s ago"
    return True, "ok"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("live", "ready"):
        print("usage: python -m moderation.probe live|ready", file=sys.stderr)
        return 2
    ok, reason = check(argv[0])
    print(f"{argv[0]}: {reason}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
