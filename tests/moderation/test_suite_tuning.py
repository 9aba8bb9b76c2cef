"""Threshold tuning on a finished suite: distribution, PR curve, suggestion, one-click apply."""

import pytest

from moderation.models import SampleResult, TestRun
from policy_admin.models import AuditEvent, CategoryThreshold
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import (
    CategoryThresholdFactory,
    EmbeddingRuleSetFactory,
    PolicyFactory,
)

pytestmark = pytest.mark.django_db

SCORES = [(0.95, True), (0.8, True), (0.7, False), (0.55, True), (0.3, False), (0.1, False)]


def decision(score):
    rule = {
        "kind": "category", "rule_id": "violence:prompt", "rule_name": "violence (policy)",
        "modality": "prompt", "action": "review", "fired": False, "score": score,
        "threshold": 0.5,
        "explanation": {"category": "violence", "review_at": 0.5, "block_at": 0.9},
    }  # fmt: skip
    return {"action": "allow", "results": [rule], "timings_ms": {}}


@pytest.fixture
def run(tenant):
    policy = PolicyFactory(tenant=tenant, slug="default")
    sample_set = SampleSetFactory(tenant=tenant)
    run = TestRun.objects.create(
        tenant=tenant, policy=policy, kind="suite", sample_set=sample_set,
        policy_revision=policy.revision, status="succeeded", result={"metrics": {}},
    )  # fmt: skip
    for score, positive in SCORES:
        sample = SampleFactory(
            sample_set=sample_set, expected_categories=["violence"] if positive else []
        )
        SampleResult.objects.create(
            tenant=tenant, run=run, sample=sample, action="allow", decision=decision(score)
        )
    return run


def url(run):
    return f"/t/acme/suites/{run.pk}/tune/"


def test_the_page_suggests_the_threshold_for_a_target_precision(client, viewer, run):
    client.force_login(viewer)
    page = client.get(url(run), {"target": "precision", "value": "0.75"}).content.decode()
    assert "Suggested threshold <strong>0.550</strong>" in page
    assert "3 positives" in page
    assert 'data-testid="tune-curve"' in page
    assert 'data-testid="tune-apply"' not in page  # a viewer cannot write the draft


def test_applying_writes_the_draft_threshold_and_audits_it(client, editor, run):
    threshold = CategoryThresholdFactory(policy=run.policy, category="violence", block_at=0.9)
    client.force_login(editor)
    response = client.post(
        url(run), {"rule": "violence:prompt", "level": "block_at", "value": "0.55"}
    )
    assert response.status_code == 302
    threshold.refresh_from_db()
    assert threshold.block_at == pytest.approx(0.55)
    assert AuditEvent.objects.filter(tenant=run.tenant).exists()


def test_applying_without_a_draft_threshold_says_what_to_do(client, editor, run):
    client.force_login(editor)
    page = client.post(
        url(run), {"rule": "violence:prompt", "level": "block_at", "value": "0.55"}, follow=True
    ).content.decode()
    assert "has no threshold on violence" in page
    assert not CategoryThreshold.objects.exists()


def test_viewers_cannot_apply_and_outsiders_get_404(client, viewer, outsider, run):
    client.force_login(viewer)
    assert client.post(url(run), {"rule": "violence:prompt"}).status_code == 403
    client.force_login(outsider)
    assert client.get(url(run)).status_code == 404


def test_an_embedding_rule_is_tuned_on_expected_actions_and_applied(client, editor, tenant):
    policy = PolicyFactory(tenant=tenant, slug="phrases")
    phrases = EmbeddingRuleSetFactory(policy=policy, threshold=0.6)
    sample_set = SampleSetFactory(tenant=tenant)
    run = TestRun.objects.create(
        tenant=tenant, policy=policy, kind="suite", sample_set=sample_set,
        policy_revision=policy.revision, status="succeeded", result={"metrics": {}},
    )  # fmt: skip
    for score, positive in SCORES:
        rule = {
            "kind": "embedding", "rule_id": f"embedding:{phrases.pk}", "rule_name": "Phrases",
            "modality": "prompt", "action": "review", "fired": False, "score": score,
            "threshold": 0.6, "explanation": {"nearest_example": "x"},
        }  # fmt: skip
        sample = SampleFactory(
            sample_set=sample_set, expected_action="review" if positive else "allow"
        )
        SampleResult.objects.create(
            tenant=tenant, run=run, sample=sample, action="allow",
            decision={"action": "allow", "results": [rule], "timings_ms": {}},
        )  # fmt: skip
    client.force_login(editor)
    page = client.get(url(run), {"target": "recall", "value": "1"}).content.decode()
    assert "Suggested threshold <strong>0.550</strong>" in page
    assert "Current threshold: 0.6" in page
    client.post(url(run), {"rule": f"embedding:{phrases.pk}", "value": "0.55"})
    phrases.refresh_from_db()
    assert phrases.threshold == pytest.approx(0.55)
