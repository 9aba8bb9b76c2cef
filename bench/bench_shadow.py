"""Agent throughput with a shadow at 100% and 10% against no shadow (issue 16).

The real FleetAgent serves a keyword bundle (fake models: keyword rules need none) and
shadows a candidate that raises one keyword set's action from review to block, so it needs
no extra model (the delta plan relabels that set's results: nothing is matched again); a
second candidate adds a term to that set instead, which is then judged again per
request. The shadow evaluator runs its background thread as in production; the decision
log takes its counts and flips (nothing is uploaded: the log is flushed nowhere). Rounds
without and with the shadow alternate so both see the same machine load; the ratio is the
median of the paired rounds' ratios (a first round of each, not counted, warms both up).
Because requests that find the queue full are dropped from the shadow
(counted, never waited on), the share actually judged is printed beside each ratio:
throughput alone would hide a shadow that does not keep up.

Targets: >= 0.8x at 100%, >= 0.95x at 10% (served throughput). Checks per CPU second of
the whole process (the shadow thread included) are printed too: what the shadow costs,
which is what a saturated agent would lose (one interpreter lock). The candidate is judged
by its delta plan (moderation/engine/delta.py): only a changed keyword set runs.

Run: python bench/bench_shadow.py [--checks 5000] [--rounds 15] [--terms 10000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_fleet_agent import NoModels  # noqa: E402
from bench.corpus import terms  # noqa: E402
from moderation.engine.bundle import Bundle, KeywordSet, PolicyInfo  # noqa: E402
from moderation.engine.compiled import compile_bundle  # noqa: E402
from moderation.engine.decision import Action  # noqa: E402
from moderation.fleet.agent import Active, FleetAgent, Shadow  # noqa: E402
from moderation.fleet.client import FleetClient  # noqa: E402
from moderation.fleet.decision_log import DecisionLog  # noqa: E402
from moderation.fleet.keys import TrustedKeys  # noqa: E402
from moderation.fleet.shadow import ShadowEvaluator  # noqa: E402
from moderation.fleet.store import StateStore  # noqa: E402
from moderation.fleet.verify import Scope  # noqa: E402

PROMPTS = [
    "a quiet walk by the sea with my dog",
    "a gore scene in an old film",  # review; blocked by the shadow
    "a portrait of an old fisherman",
    "sex on the beach cocktail",  # block in both
    "a city street at night in the rain",
]


def bundle(version: int, n_terms: int, gore: Action, gore_terms=("gore",)) -> Bundle:
    return Bundle.create(
        policy=PolicyInfo("bench", "default", "Bench", version, version),
        pins={},
        keyword_sets=(
            KeywordSet("kw-block", "terms", Action.BLOCK, ("sex", *terms(n_terms))),
            KeywordSet("kw-gore", "gore", gore, gore_terms),
        ),
    )


def make_agent(n_terms: int) -> FleetAgent:
    agent = FleetAgent(
        client=FleetClient("http://127.0.0.1:9", "t"),
        keys=TrustedKeys({"k1": bytes(32)}),  # never used: bundles are swapped in directly
        scope=Scope("default", "production"),
        store=StateStore(tempfile.mkdtemp(prefix="fleet-shadow-bench-")),
        models=NoModels(),
        instance_id="bench",
    )
    compiled = compile_bundle(bundle(1, n_terms, Action.REVIEW))
    agent._swap(Active(compiled, compiled.sha256, "", time.time()))
    return agent


def throughput(agent: FleetAgent, checks: int, shadow_eval: ShadowEvaluator | None = None):
    """Checks per second served, and per CPU second of the process (all threads) once the
    shadow, if any, has judged its sample too (its lingering sleep costs no CPU)."""
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(checks):
        agent.check(prompt=PROMPTS[i % len(PROMPTS)], request_id=f"r{i}")
    served = time.perf_counter() - start
    if shadow_eval is not None:
        shadow_eval.join()
    return checks / served, checks / (time.process_time() - cpu)


def compare(agent: FleetAgent, candidate, rate: float, args) -> tuple[float, float, float]:
    """Alternate rounds without and with the shadow at `rate`; return the served and per-CPU
    ratios (medians of the paired rounds' ratios) and the share judged."""
    # As `python -m moderation.fleet` runs it: the shadow needs the decision log, which
    # observes every served decision in both arms.
    log = DecisionLog(client=agent.client, policy="default", channel="production",
                      instance_id="bench", spool_dir=None).attach(agent)  # fmt: skip
    shadow_eval = ShadowEvaluator(agent, log, linger=args.linger, chunk=args.chunk).attach()
    shadow_eval.start()
    off, on, off_cpu, on_cpu = [], [], [], []
    for round_ in range(args.rounds + 1):  # round 0 warms both arms up (and makes the plan)
        agent._set_shadow(None)
        served, per_cpu = throughput(agent, args.checks)
        if round_:
            off.append(served)
            off_cpu.append(per_cpu)
        agent._set_shadow(Shadow(candidate, rate, time.time()))
        served, per_cpu = throughput(agent, args.checks, shadow_eval)
        if round_:
            on.append(served)
            on_cpu.append(per_cpu)
    shadow_eval.stop()
    agent.shadow_eval = None
    agent.observers.remove(log.observe)
    agent._set_shadow(None)
    stats = shadow_eval.stats()
    offered = stats["sampled"] + stats["queue_full"]
    judged = stats["shadowed"] / offered if offered else 0.0
    ratio = statistics.median(b / a for a, b in zip(off, on, strict=True))
    cpu = statistics.median(b / a for a, b in zip(off_cpu, on_cpu, strict=True))
    print(f"shadow at {rate:.0%}: off median {statistics.median(off):.0f} checks/s, on "
          f"{statistics.median(on):.0f} checks/s; median paired ratio {ratio:.3f}x "
          f"(served), {cpu:.3f}x per CPU second with the shadow's work; "
          f"sampled {offered}, judged {stats['shadowed']} ({judged:.1%}), "
          f"queue full {stats['queue_full']}, flips {stats['flips']}, "
          f"candidate rules run per request {stats['rules_run']}")  # fmt: skip
    return ratio, cpu, judged


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--linger", type=float, default=ShadowEvaluator.LINGER)
    parser.add_argument("--chunk", type=int, default=ShadowEvaluator.CHUNK)
    args = parser.parse_args()
    agent = make_agent(args.terms)
    candidate = compile_bundle(bundle(2, args.terms, Action.BLOCK))
    print(f"bundle: {args.terms + 1} block terms + 1 gore term; candidate blocks gore")
    print(f"checks per round: {args.checks}, rounds: {args.rounds}")
    full, full_cpu, full_judged = compare(agent, candidate, 1.0, args)
    tenth, tenth_cpu, tenth_judged = compare(agent, candidate, 0.1, args)
    # A candidate whose gore set gains a term: that set is judged again per request.
    more_terms = compile_bundle(bundle(2, args.terms, Action.BLOCK, ("gore", "gory")))
    print("\ncandidate with a term added to the gore set (that set runs again):")
    term_full, term_full_cpu, _ = compare(agent, more_terms, 1.0, args)
    term_tenth, term_tenth_cpu, _ = compare(agent, more_terms, 0.1, args)
    print(f"\naction raised: 100%: {full:.3f}x served, {full_cpu:.3f}x per CPU (target >= 0.8x), "
          f"{full_judged:.1%} judged; 10%: {tenth:.3f}x served, {tenth_cpu:.3f}x per CPU "
          f"(target >= 0.95x), {tenth_judged:.1%} judged")  # fmt: skip
    print(f"term added: 100%: {term_full:.3f}x served, {term_full_cpu:.3f}x per CPU; "
          f"10%: {term_tenth:.3f}x served, {term_tenth_cpu:.3f}x per CPU")  # fmt: skip


if __name__ == "__main__":
    main()
