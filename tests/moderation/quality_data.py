"""Suites and live tests with known metrics and scores, for the quality pages and API tests."""

from datetime import timedelta

from django.utils import timezone

from policy_admin.models import FleetInstance
from policy_admin.services.publishing import channel_promote, policy_publish
from tests.moderation.factories import SampleResultFactory, SampleSetFactory, SuiteRunFactory
from tests.policy_admin.factories import KeywordRuleSetFactory


def action_metrics(block_p, flag_r):
    block = {"precision": block_p, "recall": 0.5, "f1": 0.6}
    flag = {"precision": 0.9, "recall": flag_r, "f1": 0.7}
    latency = {"embed": {"p50": 20.0, "p95": 31.0}, "total": {"p50": 60.0, "p95": 90.0}}
    return {"metrics": {"action": {"block": block, "flag_or_worse": flag}, "latency_ms": latency}}


def suite(policy, sample_set, minutes_ago, **fields):
    return SuiteRunFactory(
        policy=policy,
        sample_set=sample_set,
        finished_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def rule(kind, rule_id, score, modality="prompt", **explanation):
    return {
        "kind": kind, "rule_id": rule_id, "rule_name": explanation.pop("name", rule_id),
        "modality": modality, "action": "review", "fired": False, "score": score,
        "threshold": 0.5, "explanation": explanation,
    }  # fmt: skip


VIOLENCE = ([0.05, 0.1, 0.12, 0.3, 0.5, 0.55, 0.7, 0.9], [0.4, 0.6, 0.62, 0.7, 0.8, 0.85, 0.9, 1])
HATE = ([0.0, 0.02, 0.1, 0.1, 0.2, 0.3, 0.05, 0.01], [0.01, 0.02, 0.1, 0.12, 0.2, 0.3, 0.04, 0])
CONCEPT = ([0.7, 0.72, 0.75, 0.71], [0.6, 0.61, 0.75, 0.64])


def decision(i, side, *, with_gore=False):
    results = [
        rule("category", "violence:prompt", VIOLENCE[side][i], category="violence"),
        rule("category", "hate:prompt", HATE[side][i], category="hate"),
        rule("keyword", "keywords:1", 1.0),  # not a score that drifts
        rule("embedding", "embedding:1", 0.3, skipped="empty prompt: no model judges it"),
    ]
    if i < len(CONCEPT[side]):
        results.append(rule("concept", "concept:1", CONCEPT[side][i], "image", name="Firearm"))
    if with_gore:
        results.append(rule("category", "gore:prompt", 0.9, category="gore"))
    return {"action": "allow", "results": results, "timings_ms": {}}


def two_suites(policy):
    """A baseline and a current suite on one set, with known scores per sample."""
    sample_set = SampleSetFactory(tenant=policy.tenant, name="Client samples")
    baseline = suite(policy, sample_set, 20)
    current = suite(policy, sample_set, 10)
    for i in range(8):
        base = SampleResultFactory(run=baseline, decision=decision(i, 0))
        SampleResultFactory(
            run=current, sample=base.sample, decision=decision(i, 1, with_gore=True)
        )
    return baseline, current


def fleet_of_four(policy, editor):
    """v1 on production, read by four servers: current, rejecting, stale, behind (and one on
    staging, which production does not count)."""
    KeywordRuleSetFactory(policy=policy, name="Gore", terms="gore", term_count=1)
    version = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    channel_promote(policy=policy, actor=editor, channel="production", number=1)
    entry = {"policy": "default", "channel": "production", "version": 1, "sha256": version.sha256}
    rejected = {"version": 1, "sha256": version.sha256, "reason": "bad_signature"}
    refused = {**entry, "version": 0, "sha256": "0" * 64, "last_rejected": rejected}
    behind = {**entry, "version": 0, "sha256": "1" * 64}
    now = timezone.now()
    for name, bundles, seen in [
        ("gpu-a", [entry], now),
        ("gpu-b", [refused], now),
        ("gpu-c", [entry], now - timedelta(hours=1)),
        ("gpu-e", [behind], now),
        ("gpu-d", [{**entry, "channel": "staging"}], now),
    ]:
        FleetInstance.objects.create(
            tenant=policy.tenant, instance_id=name, bundles=bundles, last_seen=seen
        )
