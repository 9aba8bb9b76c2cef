"""Applying a tuned threshold names the draft revision the page showed; a stale page is refused."""

import pytest
from django.urls import reverse

from moderation.models import SampleResult, TestRun
from moderation.services import tuning
from policy_admin.services.drafts import StaleDraftError
from policy_admin.services.rules import threshold_save
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import CategoryThresholdFactory

pytestmark = pytest.mark.django_db

RULE = {
    "kind": "category", "rule_id": "violence:prompt", "rule_name": "violence (policy)",
    "modality": "prompt", "action": "review", "fired": False, "threshold": 0.5,
    "explanation": {"category": "violence", "review_at": 0.5, "block_at": 0.9},
}  # fmt: skip


@pytest.fixture
def run(tenant, policy):
    """A finished suite of four samples, two expecting violence, scored by its threshold rule."""
    sample_set = SampleSetFactory(tenant=tenant)
    run = TestRun.objects.create(
        tenant=tenant, policy=policy, kind="suite", sample_set=sample_set,
        policy_revision=policy.revision, status="succeeded", result={"metrics": {}},
    )  # fmt: skip
    for score, positive in ((0.95, True), (0.7, True), (0.4, False), (0.1, False)):
        sample = SampleFactory(
            sample_set=sample_set, expected_categories=["violence"] if positive else []
        )
        decision = {"action": "allow", "results": [{**RULE, "score": score}], "timings_ms": {}}
        SampleResult.objects.create(
            tenant=tenant, run=run, sample=sample, action="allow", decision=decision
        )
    return run


@pytest.fixture
def threshold(run):
    return CategoryThresholdFactory(policy=run.policy, category="violence", block_at=0.9)


def tune_url(run) -> str:
    return (
        reverse("suite-tune", kwargs={"tenant": "acme", "pk": run.pk})
        + "?target=precision&value=0.9"
    )


def shown_revision(page: str) -> int:
    """The revision the tune page's apply form will post."""
    marker = 'name="revision" value="'
    start = page.index(marker) + len(marker)
    return int(page[start : page.index('"', start)])


def someone_edits_the_draft(run, editor, threshold) -> None:
    threshold.policy = run.policy
    threshold_save(
        policy=run.policy,
        actor=editor,
        revision=run.policy.revision,
        threshold=threshold,
        review_at=0.3,
    )


def test_the_page_posts_the_revision_it_showed_and_a_fresh_apply_writes_it(
    client, editor, run, threshold
):
    client.force_login(editor)
    page = client.get(tune_url(run)).content.decode()
    assert shown_revision(page) == run.policy.revision
    form = {"rule": "violence:prompt", "level": "block_at", "value": "0.7"}
    response = client.post(tune_url(run), {**form, "revision": shown_revision(page)})
    assert response.status_code == 302
    threshold.refresh_from_db()
    assert threshold.block_at == pytest.approx(0.7)


def test_a_page_opened_before_the_draft_changed_is_refused_with_a_reload_hint(
    client, editor, run, threshold
):
    client.force_login(editor)
    page = client.get(tune_url(run)).content.decode()
    someone_edits_the_draft(run, editor, threshold)

    form = {"rule": "violence:prompt", "level": "block_at", "value": "0.7"}
    response = client.post(tune_url(run), {**form, "revision": shown_revision(page)})

    assert response.status_code == 409
    assert "Reload" in response.content.decode()
    threshold.refresh_from_db()
    assert (threshold.block_at, threshold.review_at) == (pytest.approx(0.9), pytest.approx(0.3))


def test_an_apply_that_names_no_revision_is_refused_and_says_to_reload(
    client, editor, run, threshold
):
    client.force_login(editor)
    form = {"rule": "violence:prompt", "level": "block_at", "value": "0.7"}
    response = client.post(tune_url(run), form)
    assert response.status_code == 400
    assert "reload it and apply again" in response.content.decode()
    threshold.refresh_from_db()
    assert threshold.block_at == pytest.approx(0.9)


def test_the_service_compares_the_given_revision_with_the_drafts_current_one(
    run, threshold, editor
):
    shown = run.policy.revision
    someone_edits_the_draft(run, editor, threshold)
    run = TestRun.objects.get(pk=run.pk)  # loaded afresh, as by the request that applies
    apply = {"run": run, "rule_id": "violence:prompt", "level": "block_at", "actor": editor}
    with pytest.raises(StaleDraftError, match="Reload"):
        tuning.threshold_apply(revision=shown, value=0.7, **apply)
    tuning.threshold_apply(revision=run.policy.revision, value=0.7, **apply)
    threshold.refresh_from_db()
    assert threshold.block_at == pytest.approx(0.7)
