"""Reads of custom classifiers: lists, trainings, a version's plots, two versions compared."""

from dataclasses import dataclass

import numpy as np

from moderation.analysis import plots
from moderation.models import ReviewItem, Sample, SampleSet, TrainingRun
from policy_admin.models import ClassifierVersion, CustomClassifier
from tenants.scoping import scoped

RECALL_GRID = [round(i / 10, 1) for i in range(11)]
COMPARED = (
    ("samples", "Samples"),
    ("positives", "Positives"),
    ("negatives", "Negatives"),
    ("average_precision", "Average precision"),
    ("roc_auc", "ROC AUC"),
    ("brier", "Brier score (lower is better)"),
    ("suggested_threshold", "Suggested threshold"),
)


def classifier_list(*, policy) -> list[CustomClassifier]:
    """The policy's classifiers, each with its version in use and its latest training."""
    rows = list(
        scoped(CustomClassifier, policy.tenant).filter(policy=policy).select_related("version")
    )
    latest = {}
    for run in scoped(TrainingRun, policy.tenant).filter(classifier__in=rows).order_by("-pk"):
        latest.setdefault(run.classifier_id, run)
    for row in rows:
        row.latest_training = latest.get(row.pk)
    return rows


def training_list(*, classifier: CustomClassifier, limit: int = 20) -> list[TrainingRun]:
    """The classifier's trainings, newest first."""
    runs = scoped(TrainingRun, classifier.tenant).filter(classifier=classifier)
    return list(runs.select_related("version", "sample_set", "created_by")[:limit])


def training_get(*, classifier: CustomClassifier, pk: int) -> TrainingRun:
    """One training of the classifier; TrainingRun.DoesNotExist for any other id."""
    runs = scoped(TrainingRun, classifier.tenant).filter(classifier=classifier)
    return runs.select_related("version", "sample_set").get(pk=pk)


def sample_set_choices(*, tenant) -> list[SampleSet]:
    """The tenant's sample sets a training may read."""
    return list(scoped(SampleSet, tenant).order_by("name"))


@dataclass
class VersionPlots:
    """What the page draws of one version's out-of-fold scores."""

    pr: plots.LineChart
    calibration: plots.LineChart
    histogram: list[dict]


def version_plots(version: ClassifierVersion) -> VersionPlots:
    """The PR curve (best precision at each recall), calibration and score histogram by label."""
    m = version.metrics
    curve = np.array(m["pr_curve"], dtype=float)
    precision = [
        float(curve[curve[:, 0] >= r, 1].max()) if (curve[:, 0] >= r).any() else None
        for r in RECALL_GRID
    ]
    pr = plots.line_chart(
        [plots.Series("precision", precision)], labels=[f"{r:.1f}" for r in RECALL_GRID], top=1.0
    )
    bins = [None] * 10
    for mean_score, fraction in m["calibration"]:
        bins[min(int(mean_score * 10), 9)] = fraction
    calibration = plots.line_chart(
        [
            plots.Series("observed share positive", bins),
            plots.Series("perfect", [(i + 0.5) / 10 for i in range(10)], dashed=True),
        ],
        labels=[f"{(i + 0.5) / 10:.2f}" for i in range(10)],
        top=1.0,
    )
    scores = np.array(m.get("oof_scores", []), dtype=float)
    labels = np.array(version.sample_labels, dtype=bool)
    if len(scores) != len(labels):
        scores, labels = np.zeros(0), np.zeros(0, dtype=bool)
    histogram = plots.pair_histogram(list(scores[labels]), list(scores[~labels]), shares=True)
    return VersionPlots(pr=pr, calibration=calibration, histogram=histogram)


def version_compare(first: ClassifierVersion, second: ClassifierVersion) -> dict:
    """Metrics side by side, and how the training sets and feature pins differ."""
    a, b = first.metrics, second.metrics
    rows = [{"label": label, "first": a.get(key), "second": b.get(key)} for key, label in COMPARED]
    for ratio in ("precision", "recall", "f1"):
        rows.append({
            "label": f"{ratio.capitalize()} at the suggested threshold",
            "first": a.get("at_suggestion", {}).get(ratio),
            "second": b.get("at_suggestion", {}).get(ratio),
        })  # fmt: skip
    first_ids, second_ids = set(first.sample_ids), set(second.sample_ids)
    return {
        "rows": rows,
        "same_samples": first.samples_sha256 == second.samples_sha256,
        "only_first": len(first_ids - second_ids),
        "only_second": len(second_ids - first_ids),
        "same_pins": first.feature_pins == second.feature_pins,
    }


def label_issue_samples(run: TrainingRun, limit: int = 50) -> list[dict]:
    """The run's likely label errors with their samples (a deleted sample is left out), and
    whether each waits in a review queue."""
    issues = run.label_issues[:limit]
    found = scoped(Sample, run.tenant).in_bulk([i["sample"] for i in issues])
    waiting = set(
        scoped(ReviewItem, run.tenant)
        .filter(sample__in=list(found), status=ReviewItem.Status.OPEN)
        .values_list("sample_id", flat=True)
    )
    return [
        {**issue, "row": found[issue["sample"]], "waiting": issue["sample"] in waiting}
        for issue in issues
        if issue["sample"] in found
    ]


NEIGHBOUR_SIDES = ("positive", "negative")


def neighbour_samples(*, tenant, neighbours: list[dict]) -> list[dict]:
    """A live run's stored neighbours (moderation/services/classifier_neighbours.py) with their
    samples of `tenant`; a sample deleted since is left out."""
    ids = [
        n["sample"]
        for per_rule in neighbours
        for found in per_rule.values()
        for side in NEIGHBOUR_SIDES
        for n in found.get(side, [])
    ]
    rows = scoped(Sample, tenant).in_bulk(ids)

    def resolved(found: dict) -> dict:
        sides = {
            side: [
                {**n, "row": rows[n["sample"]]} for n in found.get(side, []) if n["sample"] in rows
            ]
            for side in NEIGHBOUR_SIDES
        }
        return {"note": found.get("note", ""), **sides}

    return [
        {rule_id: resolved(found) for rule_id, found in per_rule.items()} for per_rule in neighbours
    ]
