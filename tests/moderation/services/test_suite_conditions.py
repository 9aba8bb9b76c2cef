"""A conditional rule changes an image decision in a suite of paired prompt+image samples,
and the impact preview says which condition changed which threshold."""

import hashlib
import html

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from moderation.models import SampleResult, TestRun
from moderation.selectors import compare
from moderation.services import suites, tuning
from moderation.tasks.gpu import suite_run_execute
from policy_admin.services import conditions
from tests.images import png_bytes
from tests.moderation.engine.conftest import FakeModels, FakeScorer, image_scores, text_scores
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import CategoryThresholdFactory, KeywordRuleSetFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued", "media")]

NUDENET = ("FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED",
           "BUTTOCKS_EXPOSED", "ANUS_EXPOSED")  # fmt: skip
# The fake NudeNet scores an image's red share: 0.31, allowed at nudity 0.5 / 0.85.
DIM_RED = (80, 0, 255)


@pytest.fixture(autouse=True)
def fake_models(monkeypatch):
    """Deterministic fakes for every output the catalogue's nudity category reads."""
    models = FakeModels(
        scorers=[
            FakeScorer("text", "prompt", ["text.nudity", "text.violence"], text_scores),
            FakeScorer("nudenet", "image", [f"nudenet.{n}" for n in NUDENET], image_scores),
        ]
    )
    monkeypatch.setattr("moderation.services.scoring.models", lambda: models)
    return models


def paired(sample_set, external_id, prompt, expected):
    data = png_bytes(DIM_RED)
    digest = hashlib.sha256(data + prompt.encode()).hexdigest()
    sample = SampleFactory(
        sample_set=sample_set, external_id=external_id, prompt=prompt, expected_action=expected,
        image_sha256=hashlib.sha256(data).hexdigest(), content_sha256=digest,
    )  # fmt: skip
    sample.image.save(f"{external_id}.png", ContentFile(data))
    return sample


def run_suite(sample_set, policy, editor, capture):
    with capture(execute=True):
        run = suites.suite_start(sample_set=sample_set, policy=policy, actor=editor)
    suite_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == TestRun.Status.SUCCEEDED, run.error
    return run


def actions(run):
    rows = SampleResult.objects.filter(run=run).values_list("sample__external_id", "action")
    return dict(rows)


def test_a_conditional_rule_changes_an_image_decision_in_a_suite(
    client, tenant, policy, editor, django_capture_on_commit_callbacks
):
    CategoryThresholdFactory(policy=policy, category="nudity", review_at=0.5, block_at=0.85)
    minors = KeywordRuleSetFactory(
        policy=policy, name="Minors", action="flag", terms="schoolgirl", term_count=1
    )
    sample_set = SampleSetFactory(tenant=tenant)
    # The signalled sample last: its conditioned thresholds are the last a suite reads.
    paired(sample_set, "adult", "portrait of a woman", "allow")
    paired(sample_set, "minor", "portrait of a schoolgirl", "block")
    before = run_suite(sample_set, policy, editor, django_capture_on_commit_callbacks)
    assert actions(before) == {"minor": "flag", "adult": "allow"}

    policy.refresh_from_db()
    conditions.condition_save(
        policy=policy, actor=editor, revision=policy.revision, name="Minor signal",
        when="keyword_set", keyword_set=minors,
        image_thresholds=[{"category": "nudity", "review_at": 0.2, "block_at": 0.3}],
    )  # fmt: skip
    after = run_suite(sample_set, policy, editor, django_capture_on_commit_callbacks)
    assert actions(after) == {"minor": "block", "adult": "allow"}
    block = after.result["metrics"]["action"]["block"]
    assert (block["tp"], block["fn"]) == (1, 0)

    comparison = compare.suite_compare(before=before, after=after)
    [moved] = comparison.stricter["flag → block"]
    assert moved.sample.external_id == "minor"
    assert moved.condition_changes == [
        "“Minor signal” set image nudity: review 0.5 → 0.2; block 0.85 → 0.3, it blocks"
    ]
    assert comparison.looser == {}
    # Tuning the image threshold shows the policy's value, not the condition's.
    tuned = tuning.tuning_get(run=after, rule_id="nudity:image", target="precision", value=0.9)
    assert (tuned.current["review_at"], tuned.current["block_at"]) == (0.5, 0.85)

    client.force_login(editor)
    page = client.get(
        reverse("suite-compare", kwargs={"tenant": tenant.slug, "pk": after.pk}),
        {"with": before.pk},
    )
    shown = html.unescape(page.content.decode())
    assert "“Minor signal” set image nudity: review 0.5 → 0.2; block 0.85 → 0.3" in shown
    sample = client.get(
        reverse("suite-sample", kwargs={"tenant": tenant.slug, "pk": after.pk,
                                        "result_pk": moved.pk})
    )  # fmt: skip
    assert "thresholds set by “Minor signal”: review 0.5 → 0.2, block 0.85 → 0.3" in (
        html.unescape(sample.content.decode())
    )
