"""Conditional rules' engine cost: evaluate_batch with one condition against none, in one run.

The engine's counting fakes stand in for the models (they cost microseconds), so the
ratio shows the conditions' own work (judging them after the prompt stage, per-request
image thresholds) at its largest share; with real models it is lost in the model time.
Half the prompts fire the condition. Rounds with and without alternate, so both see the
same machine load; the ratio is the median of the paired rounds' ratios.

Run: python bench/bench_conditions.py [--items 512] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation.engine.bundle import Condition, ConditionalRule, ConditionThreshold  # noqa: E402
from moderation.engine.evaluate import evaluate_batch  # noqa: E402
from moderation.engine.inputs import Item  # noqa: E402
from tests.moderation.engine.conftest import FakeModels, build_bundle, solid  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    models = FakeModels()
    rule = ConditionalRule(
        "cond", "Brand signal", Condition("keyword_set", rule="kw-brands"),
        (ConditionThreshold("nudity", 0.2, 0.3),),
    )  # fmt: skip
    plain, conditioned = build_bundle(models), build_bundle(models, conditions=(rule,))
    items = [
        Item(f"{'acme rival' if i % 2 else 'a cat'} {i}", solid((i % 256, 0, 255)))
        for i in range(args.items)
    ]
    for bundle in (plain, conditioned):  # compile and warm up
        evaluate_batch(bundle, items, models=models)
    ratios, base, cond = [], [], []
    for _ in range(args.rounds):
        a = _time(plain, items, models)
        b = _time(conditioned, items, models)
        base.append(a)
        cond.append(b)
        ratios.append(b / a)
    per_item = statistics.median(base) / args.items * 1e6
    print(
        f"{args.items} paired inputs, {args.rounds} rounds (fake models: {per_item:.0f} µs/input)"
    )
    print(f"without conditions: median {statistics.median(base) * 1000:.1f} ms")
    print(f"with one condition: median {statistics.median(cond) * 1000:.1f} ms")
    print(f"ratio with/without: {statistics.median(ratios):.3f}")


def _time(bundle, items, models) -> float:
    start = time.perf_counter()
    evaluate_batch(bundle, items, models=models)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
