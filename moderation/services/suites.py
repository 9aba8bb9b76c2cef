"""Suite runs: a policy draft evaluated over every sample of a set, in batches, resumable.

Guarantees: a sample has at most one result per run (unique constraint, and
bulk_create(ignore_conflicts) so a batch re-evaluated after a crash adds nothing
twice); each batch's results, the progress count and the heartbeat are written
in one transaction, so progress never counts a result that was not stored; a
run whose worker went silent is queued again (moderation.services.lifecycle)
and resumes with the samples that have no result yet.
"""

from django.db import transaction
from django.utils import timezone

from kernel.errors import ApplicationError, ConflictError
from moderation.analysis import metrics
from moderation.engine.decision import ACTIONS
from moderation.models import Sample, SampleResult, SampleSet, TestRun
from moderation.services import lifecycle
from moderation.services.alert_drift import drift_alerts_after_run
from moderation.services.alert_evaluators import alerts_after_run
from moderation.services.runs import run_target

Status = TestRun.Status


@transaction.atomic
def suite_start(*, sample_set: SampleSet, policy, actor, version=None) -> TestRun:
    """Store a suite run of the policy's draft (or `version`) over the whole set; queue it."""
    if policy.tenant_id != sample_set.tenant_id:
        raise ApplicationError("The policy and the sample set belong to different tenants.")
    target = run_target(policy=policy, version=version)
    total = sample_set.samples.count()
    if total == 0:
        raise ApplicationError(
            f"The sample set “{sample_set.name}” is empty; import samples first."
        )
    run = TestRun.objects.create(
        tenant=sample_set.tenant,
        policy=policy,
        kind=TestRun.Kind.SUITE,
        sample_set=sample_set,
        progress_total=total,
        created_by=actor,
        **target,
    )
    lifecycle.run_enqueue(run=run)
    return run


@transaction.atomic
def suite_cancel(*, run: TestRun) -> TestRun:
    """Stop a queued or running suite; the worker stops after its current batch."""
    run = TestRun.objects.select_for_update().get(pk=run.pk)
    if not run.is_active:
        raise ConflictError(f"This suite is already {run.get_status_display().lower()}.")
    return lifecycle.run_transition(run, Status.CANCELLED, finished_at=timezone.now())


def suite_pending(run: TestRun, limit: int) -> list[Sample]:
    """The next `limit` samples of the run's set that have no result yet, in id order."""
    done = SampleResult.objects.filter(run=run).values("sample_id")
    return list(
        Sample.objects.filter(sample_set_id=run.sample_set_id)
        .exclude(pk__in=done)
        .order_by("id")[:limit]
    )


@transaction.atomic
def suite_store_batch(*, run: TestRun, samples: list[Sample], decisions: list) -> int:
    """Store one batch's decisions with the progress and heartbeat; returns the new done count.

    Results already stored (a batch replayed after a crash) are kept, not doubled.
    """
    SampleResult.objects.bulk_create(
        [
            SampleResult(
                tenant_id=run.tenant_id,
                run=run,
                sample=sample,
                action=decision.action.value,
                decision=decision.as_dict(),
                timings_ms=dict(decision.timings_ms),
            )
            for sample, decision in zip(samples, decisions, strict=True)
        ],
        ignore_conflicts=True,
    )
    done = SampleResult.objects.filter(run=run).count()
    TestRun.objects.filter(pk=run.pk).update(progress_done=done, heartbeat_at=timezone.now())
    run.progress_done = done
    return done


def suite_still_running(run: TestRun) -> bool:
    """False once the run was cancelled (or taken from this worker) since it was claimed."""
    current = TestRun.objects.filter(pk=run.pk).values_list("status", "worker").first()
    return current == (Status.RUNNING, run.worker)


def suite_finish(*, run: TestRun, bundle: dict) -> TestRun:
    """Mark a suite whose every sample has a result as finished, with a summary; then alerts."""
    summary = suite_metrics_compute(run)
    with transaction.atomic():
        locked = TestRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != Status.RUNNING:
            return locked
        finished = lifecycle.run_transition(
            locked,
            Status.SUCCEEDED,
            result={"bundle": bundle, **summary},
            bundle_sha256=bundle["sha256"],
            policy_revision=bundle["revision"],
            finished_at=timezone.now(),
        )
    # After the commit, so a rule is only ever judged on a run that is stored as succeeded.
    # Neither raises: a rule that fails is logged and the run stays finished.
    alerts_after_run(finished)
    drift_alerts_after_run(finished)
    return finished


def suite_metrics_compute(run: TestRun) -> dict:
    """Counts per action, and metrics of the final action, per category, per rule and latency.

    Rules are judged against whether the sample should be caught (expected flag
    or stricter); categories against the sample's expected categories.
    """
    rows = SampleResult.objects.filter(run=run).values_list(
        "action", "decision", "timings_ms", "sample__expected_action", "sample__expected_categories"
    )
    expected, predicted, exp_cats, got_cats, fired, timings = [], [], [], [], [], []
    for action, decision, stage_ms, want, want_cats in rows.iterator(chunk_size=500):
        expected.append(want)
        predicted.append(action)
        exp_cats.append(set(want_cats))
        hits = [r for r in decision["results"] if r["fired"]]
        got_cats.append({r["explanation"]["category"] for r in hits if r["kind"] == "category"})
        fired.append({_rule_key(r) for r in hits})
        timings.append(stage_ms)
    rules = sorted({_rule_key(r) for r in _all_rules(run)} | set().union(*fired))
    categories = sorted(set().union(*exp_cats, *got_cats))
    catch = [metrics.at_least(a, "flag") for a in expected]
    return {
        "actions": {a: predicted.count(a) for a in ACTIONS if a in predicted},
        "metrics": {
            "action": {
                k: v.as_dict() for k, v in metrics.action_metrics(expected, predicted).items()
            },
            "categories": {
                k: v.as_dict()
                for k, v in metrics.label_metrics(exp_cats, got_cats, categories).items()
            },
            "rules": {
                rule: metrics.binary(catch, [rule in f for f in fired]).as_dict() for rule in rules
            },
            "latency_ms": metrics.latency(timings),
        },
    }


def _rule_key(rule: dict) -> str:
    return f"{rule['kind']}: {rule['rule_name']}"


def _all_rules(run: TestRun) -> list[dict]:
    first = SampleResult.objects.filter(run=run).values_list("decision", flat=True).first()
    return first["results"] if first else []


def suite_rate(run: TestRun) -> dict:
    """Samples per second since the run started, and the seconds left at that rate."""
    if not run.started_at or not run.progress_done:
        return {"rate": None, "eta_s": None}
    end = run.finished_at or timezone.now()
    elapsed = max((end - run.started_at).total_seconds(), 1e-3)
    rate = run.progress_done / elapsed
    left = run.progress_total - run.progress_done
    return {"rate": round(rate, 1), "eta_s": round(left / rate) if rate else None}
