"""Threshold tuning on a finished suite: distribution, PR curve, suggestion, one-click apply."""

import pytest
from django.urls import reverse

from kernel.uploads import ImageUpload
from moderation.models import SampleResult, TestRun
from moderation.services import samples, suites, tuning
from moderation.tasks.gpu import suite_run_execute
from policy_admin.models import AuditEvent, CategoryThreshold, ClipConcept
from policy_admin.services.concepts import concept_images_add, concept_save
from tests.images import png_bytes
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
def run(tenant, policy):
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
    return reverse("suite-tune", kwargs={"tenant": "acme", "pk": run.pk})


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
        url(run),
        {
            "rule": "violence:prompt",
            "level": "block_at",
            "value": "0.55",
            "revision": run.policy.revision,
        },
    )
    assert response.status_code == 302
    threshold.refresh_from_db()
    assert threshold.block_at == pytest.approx(0.55)
    assert AuditEvent.objects.filter(tenant=run.tenant).exists()


def test_applying_without_a_draft_threshold_says_what_to_do(client, editor, run):
    client.force_login(editor)
    form = {
        "rule": "violence:prompt",
        "level": "block_at",
        "value": "0.55",
        "revision": run.policy.revision,
    }
    page = client.post(url(run), form, follow=True).content.decode()
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
    client.post(
        url(run),
        {"rule": f"embedding:{phrases.pk}", "value": "0.55", "revision": run.policy.revision},
    )
    phrases.refresh_from_db()
    assert phrases.threshold == pytest.approx(0.55)


def test_a_concept_is_tuned_from_a_real_suite_and_the_suggestion_lands_in_the_draft(
    client, editor, tenant, monkeypatch, django_capture_on_commit_callbacks, media
):
    """The mechanics on the random-initialised test CLIP: its scores mean nothing, the rest does."""
    monkeypatch.setattr("moderation.tasks.gpu.suite_run_execute.delay", lambda pk: None)
    policy = PolicyFactory(tenant=tenant, slug="visual")
    concept = concept_save(
        policy=policy, actor=editor, revision=policy.revision, name="Red things", threshold=0.9
    )
    reds = [ImageUpload(f"red{i}.png", png_bytes((255 - 20 * i, 10, 10))) for i in range(3)]
    concept_images_add(concept=concept, actor=editor, revision=policy.revision, uploads=reds)
    sample_set = SampleSetFactory(tenant=tenant)
    colours = {
        "review": [(240, 0, 0), (200, 30, 20), (180, 0, 40)],
        "allow": [(0, 0, 230), (10, 200, 10), (90, 90, 90)],
    }
    for expected, rgbs in colours.items():
        for rgb in rgbs:
            samples.sample_add(
                sample_set=sample_set, image=ImageUpload("s.png", png_bytes(rgb, (32, 32))),
                expected_action=expected,
            )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        run = suites.suite_start(sample_set=sample_set, policy=policy, actor=editor)
    suite_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == TestRun.Status.SUCCEEDED, run.error

    rule_id = f"concept:{concept.pk}"
    assert rule_id in tuning.tunable_rules(run)
    result = tuning.tuning_get(run=run, rule_id=rule_id, target="recall", value=1.0)
    assert (len(result.positives), len(result.negatives)) == (3, 3)
    assert all(-1.0 <= s <= 1.0 for s in result.positives + result.negatives)
    assert result.curve
    assert result.suggestion.recall == 1.0
    assert result.suggestion.threshold == pytest.approx(min(result.positives))
    assert result.current["threshold"] == pytest.approx(0.9)

    client.force_login(editor)
    page = client.get(url(run), {"rule": rule_id, "target": "recall", "value": "1"})
    assert 'data-testid="tune-curve"' in page.content.decode()
    value = f"{result.suggestion.threshold:.3f}"
    client.post(url(run), {"rule": rule_id, "value": value, "revision": policy.revision})
    concept = ClipConcept.objects.get(pk=concept.pk)
    assert concept.threshold == pytest.approx(float(value))
    event = AuditEvent.objects.filter(tenant=tenant, policy=policy).order_by("-id").first()
    assert (event.actor, event.after["threshold"]) == (editor, pytest.approx(float(value)))
