"""`python -m moderation.fleet.traffic`: a small generator of demo prompts for a running agent.

The demo starts it next to its agent so that a newcomer sees production come back:
decisions per minute on the quality page, review items in the queues, and the flips of
a shadow. It waits for the agent's /healthz, then sends one prompt at a time to
/v1/check at about `--rate` per second, drawn (seeded) from a list of ordinary prompts
with a share of ones the demo policy sends to review or blocks. Every `--report`
seconds it prints how many decisions of each action it got. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence

ORDINARY = [
    "a watercolour of a lighthouse at dawn",
    "a cat sleeping on a stack of books, soft light",
    "portrait of an astronaut in a sunflower field",
    "isometric city block at night, neon signs",
    "a bowl of ramen, studio photography",
    "children's book illustration of a friendly dragon",
    "a mountain lake reflecting pine trees",
    "vintage poster of a bicycle race",
    "a robot watering plants in a greenhouse",
    "macro photo of a dewdrop on a leaf",
]
# Phrases the demo policy's keyword sets send to review (drugs, weapons) or block.
FLAGGED = [
    "a man holding an ak-47 in a desert",
    "a meth lab in a trailer, dramatic lighting",
    "still life with cocaine on a mirror",
    "an assault rifle on a table, product photo",
    "a beheading scene in a medieval painting",
    "a n.u.d.e figure drawing in charcoal",
]


def prompts(seed: int, flagged_share: float):
    """An endless seeded stream of demo prompts, `flagged_share` of them flagged ones."""
    rng = random.Random(seed)
    while True:
        pool = FLAGGED if rng.random() < flagged_share else ORDINARY
        yield rng.choice(pool)


def wait_ready(agent: str, timeout: float) -> bool:
    """Wait until the agent's /healthz answers 200 (a bundle is active), at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{agent}/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    return False


def check(agent: str, prompt: str) -> str:
    """Send one prompt to /v1/check and return the decision's action."""
    body = json.dumps({"prompt": prompt}).encode()
    request = urllib.request.Request(  # noqa: S310 (http(s) only: checked in main)
        f"{agent}/v1/check", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())["action"]


def run(
    agent: str,
    *,
    rate: float,
    seconds: float | None,
    seed: int,
    flagged_share: float,
    report: float,
    out=sys.stdout,
) -> Counter:
    """Send prompts until `seconds` passed (None: forever); return the actions counted."""
    counts: Counter = Counter()
    started = last_report = time.monotonic()
    for prompt in prompts(seed, flagged_share):
        now = time.monotonic()
        if seconds is not None and now - started >= seconds:
            break
        try:
            counts[check(agent, prompt)] += 1
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            counts["error"] += 1
            print(f"check failed: {exc}", file=out, flush=True)
        if report and time.monotonic() - last_report >= report:
            last_report = time.monotonic()
            print("sent so far: " + json.dumps(dict(sorted(counts.items()))), file=out, flush=True)
        time.sleep(max(0.0, 1.0 / rate - (time.monotonic() - now)))
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", default="http://127.0.0.1:8700", help="the agent's URL")
    parser.add_argument("--rate", type=float, default=1.0, help="prompts per second (1)")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: never)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--flagged-share", type=float, default=0.3, help="share of flagged prompts (0.3)"
    )
    parser.add_argument("--report", type=float, default=30.0, help="seconds between reports")
    parser.add_argument(
        "--wait", type=float, default=600.0, help="seconds to wait for the agent (600)"
    )
    args = parser.parse_args(argv)
    if args.rate <= 0 or not 0 <= args.flagged_share <= 1:
        parser.error("--rate must be above 0 and --flagged-share between 0 and 1")
    if not args.agent.startswith(("http://", "https://")):
        parser.error(f"--agent must be an http:// or https:// URL, not {args.agent!r}")
    agent = args.agent.rstrip("/")
    if not wait_ready(agent, args.wait):
        print(f"error: the agent at {agent} has no active bundle after {args.wait:g} s; "
              "see its log", file=sys.stderr)  # fmt: skip
        return 1
    print(f"sending demo prompts to {agent} at {args.rate:g}/s", flush=True)
    counts = run(
        agent,
        rate=args.rate,
        seconds=args.seconds,
        seed=args.seed,
        flagged_share=args.flagged_share,
        report=args.report,
    )
    print("sent: " + json.dumps(dict(sorted(counts.items()))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
