"""Exports of a finished suite: per-sample rows as CSV or JSON, with the run's metrics."""

import csv
import io
from collections.abc import Iterator

from moderation.models import TestRun
from moderation.selectors.runs import suite_metrics, suite_results

COLUMNS = (
    "sample_id", "prompt", "image", "expected_action", "expected_categories", "tags",
    "action", "fired_rules", "total_ms",
)  # fmt: skip


def result_rows(run: TestRun) -> Iterator[dict]:
    """One dict per sample result, in sample order, streamed from the database."""
    for result in suite_results(run=run).iterator(chunk_size=500):
        sample = result.sample
        fired = [r["rule_name"] for r in result.decision.get("results", []) if r["fired"]]
        yield {
            "sample_id": sample.external_id,
            "prompt": sample.prompt,
            "image": sample.image.name or "",
            "expected_action": sample.expected_action,
            "expected_categories": sample.expected_categories,
            "tags": sample.tags,
            "action": result.action,
            "fired_rules": fired,
            "total_ms": result.timings_ms.get("total"),
        }


def csv_lines(run: TestRun) -> Iterator[str]:
    """The results as CSV text, one line at a time; lists are joined with "|"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for row in result_rows(run):
        writer.writerow(
            ["|".join(v) if isinstance(v, list) else ("" if v is None else v) for v in row.values()]
        )
        yield flush()


def as_json(run: TestRun) -> dict:
    """The run, its metrics and every per-sample row, JSON-ready."""
    return {
        "run": {
            "id": run.pk,
            "policy": run.policy.slug,
            "policy_revision": run.policy_revision,
            "version_number": run.version_number,
            "sample_set": run.sample_set.name,
            "status": run.status,
            "bundle_sha256": run.bundle_sha256,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "samples": run.progress_total,
        },
        "metrics": suite_metrics(run=run),
        "results": list(result_rows(run)),
    }
