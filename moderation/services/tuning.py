"""Threshold tuning from a finished suite: score distributions, the PR curve, a suggestion.

A rule is tuned on the scores it gave every sample. For a category threshold
("violence:prompt") a sample is a positive when it expects that category; for
an embedding set or a CLIP concept, when it expects flag or stricter.
"""

from dataclasses import dataclass

from django.db import transaction

from kernel.errors import ApplicationError
from moderation.analysis import metrics, plots
from moderation.models import SampleResult, TestRun
from policy_admin.models import CategoryThreshold, ClipConcept, EmbeddingRuleSet
from policy_admin.services.concepts import concept_save
from policy_admin.services.rules import embedding_set_save, threshold_save
from tenants.scoping import scoped

SVG_W, SVG_H = plots.WIDTH, plots.HEIGHT


@dataclass
class Tuning:
    """What the tuning page shows for one category rule of one suite."""

    rule_id: str
    category: str
    positives: list[float]
    negatives: list[float]
    curve: list[metrics.CurvePoint]
    suggestion: metrics.CurvePoint | None
    current: dict

    def histogram_bars(self, bins: int = 10) -> list[dict]:
        """Bars for the SVG: per bin, the positive (first) and negative (second) counts."""
        return plots.pair_histogram(self.positives, self.negatives, bins=bins)

    def curve_path(self) -> str:
        """The PR curve as an SVG path: recall on x, precision on y."""
        ordered = sorted(self.curve, key=lambda p: p.recall)
        return plots.path([(p.recall * SVG_W, (1 - p.precision) * SVG_H) for p in ordered])


TUNABLE = ("category", "embedding", "concept")


def tunable_rules(run: TestRun) -> dict[str, str]:
    """Rule id → name of the run's thresholded rules: categories, embedding sets, concepts."""
    first = scoped(SampleResult, run.tenant).filter(run=run).values_list("decision", flat=True)
    decision = first.first() or {"results": []}
    rules = {r["rule_id"]: f"{r['kind']}: {r['rule_name']}" for r in decision["results"]}
    return dict(sorted((k, v) for k, v in rules.items() if v.split(":", 1)[0] in TUNABLE))


def _positive(rule: dict, expected_action: str, expected_categories: list[str]) -> bool:
    if rule["kind"] == "category":
        return rule["explanation"].get("category") in expected_categories
    return metrics.at_least(expected_action, "flag")


def tuning_get(*, run: TestRun, rule_id: str, target: str, value: float) -> Tuning:
    """One category rule's scores over a finished suite, its PR curve, a suggested threshold."""
    if run.status != TestRun.Status.SUCCEEDED:
        raise ApplicationError("Tune thresholds on a finished suite.")
    if target not in ("precision", "recall") or not 0 < value <= 1:
        raise ApplicationError("Choose a target precision or recall between 0 and 1.")
    positives, negatives, current = [], [], {}
    rows = (
        scoped(SampleResult, run.tenant)
        .filter(run=run)
        .values_list("decision", "sample__expected_action", "sample__expected_categories")
    )
    for decision, action, categories in rows.iterator(chunk_size=500):
        rule = next((r for r in decision["results"] if r["rule_id"] == rule_id), None)
        if rule is None or "skipped" in rule["explanation"]:
            continue
        if not current or "condition" not in rule["explanation"]:
            # A conditional rule's thresholds held for that sample only: show the policy's.
            current = {**rule["explanation"], "kind": rule["kind"], "threshold": rule["threshold"]}
        bucket = positives if _positive(rule, action, categories) else negatives
        bucket.append(float(rule["score"]))
    if not current:
        raise ApplicationError(f"The suite has no scores of the rule {rule_id}.")
    scores = positives + negatives
    labels = [True] * len(positives) + [False] * len(negatives)
    curve = metrics.pr_curve(scores, labels)
    return Tuning(
        rule_id=rule_id,
        category=current.get("category", ""),
        positives=positives,
        negatives=negatives,
        curve=curve,
        suggestion=metrics.suggest_threshold(curve, target=target, value=value),
        current=current,
    )


@transaction.atomic
def threshold_apply(
    *, run: TestRun, revision: int | None, rule_id: str, level: str, value: float, actor
):
    """Write a tuned threshold into the draft of the run's policy (audited).

    `revision` is the draft revision the tuning page showed. It goes, with the
    value, through the authoring services, which compare it with the draft's
    current revision under a row lock: a stale page is refused (StaleDraftError,
    saying to reload) and the floor is checked, exactly as in the policy editor.
    `level` picks review_at or block_at for a category; rule sets have one threshold.
    """
    kind, _, key = rule_id.partition(":")
    if kind in ("embedding", "concept"):
        return _rule_set_apply(run, kind, key, value, actor, revision)
    if level not in ("review_at", "block_at"):
        raise ApplicationError("Choose whether the value sets the review or the block threshold.")
    return _category_apply(run, kind, level, value, actor, revision)


def _rule_set_apply(run: TestRun, kind: str, key: str, value: float, actor, revision):
    model, save, arg = {
        "embedding": (EmbeddingRuleSet, embedding_set_save, "embedding_set"),
        "concept": (ClipConcept, concept_save, "concept"),
    }[kind]
    row = scoped(model, run.tenant).filter(policy=run.policy, pk=_rule_pk(key)).first()
    if row is None:
        raise ApplicationError(f"The draft no longer has this {kind} rule; nothing was changed.")
    row.policy = run.policy
    return save(policy=run.policy, actor=actor, revision=revision, threshold=value, **{arg: row})


def _rule_pk(key: str) -> int | None:
    return int(key) if key.isdigit() else None


def _category_apply(run: TestRun, category: str, level: str, value: float, actor, revision):
    policy = run.policy
    row = scoped(CategoryThreshold, run.tenant).filter(policy=policy, category=category).first()
    if row is None:
        raise ApplicationError(
            f"The draft of {policy.name} has no threshold on {category} (its score came from the "
            "platform floor); add one in the policy editor, then apply the suggestion."
        )
    row.policy = policy
    return threshold_save(
        policy=policy, actor=actor, revision=revision, threshold=row, **{level: value}
    )
