"""A live test explains a classifier's score with the nearest positive and negative samples."""

import pytest

from moderation.models import TestRun
from moderation.selectors.classifiers import neighbour_samples
from moderation.services import classifier_neighbours, runs
from moderation.tasks.gpu import run_execute
from policy_admin.services.classifiers import classifier_version_use
from tests.moderation.classifier_data import trained_with_issue
from tests.moderation.engine.conftest import FakeModels
from tests.moderation.factories import SampleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued", "media")]


class Registry(FakeModels):
    def device_info(self) -> dict:
        return {"device": "cpu"}


@pytest.fixture
def registry(monkeypatch):
    registry = Registry()
    monkeypatch.setattr("moderation.services.scoring.models", lambda: registry)
    classifier_neighbours._memo.clear()
    return registry


@pytest.fixture
def pinned(policy, editor):
    trained = trained_with_issue(policy, editor)
    policy.refresh_from_db()
    classifier_version_use(
        classifier=trained.run.classifier,
        version=trained.run.version,
        actor=editor,
        revision=policy.revision,
    )
    policy.refresh_from_db()
    return trained


def live(policy, editor, prompt) -> TestRun:
    run = runs.live_test_start(policy=policy, actor=editor, prompt=prompt, uploads=[])
    run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == TestRun.Status.SUCCEEDED, run.error
    return run


def test_the_nearest_positive_and_negative_training_samples_are_stored(
    policy, editor, pinned, registry
):
    run = live(policy, editor, "our mascot pose again and again")
    rule_id = f"classifier:{pinned.run.classifier_id}"
    [found] = run.result["neighbours"]
    nearest = found[rule_id]
    version = pinned.run.version
    label_of = dict(zip(version.sample_ids, version.sample_labels, strict=True))
    assert [label_of[n["sample"]] for n in nearest["positive"]] == [1, 1, 1]
    assert [label_of[n["sample"]] for n in nearest["negative"]] == [0, 0, 0]
    # "our mascot pose again" is labelled allow: the nearest negative of a mascot prompt
    assert nearest["negative"][0]["sample"] == pinned.wrong.pk
    similarities = [n["similarity"] for n in nearest["positive"]]
    assert similarities == sorted(similarities, reverse=True)
    assert nearest["positive"][0]["similarity"] > nearest["negative"][1]["similarity"]


def test_the_cosine_is_the_encoders_on_the_training_prompts(policy, editor, pinned, registry):
    run = live(policy, editor, "a quiet lake scene at dusk")
    nearest = run.result["neighbours"][0][f"classifier:{pinned.run.classifier_id}"]
    query = registry.text.encode(["a quiet lake scene at dusk"])[0]
    best = nearest["negative"][0]
    sample = pinned.run.sample_set.samples.get(pk=best["sample"])
    other = registry.text.encode([sample.prompt])[0]
    cosine = float(query @ other / ((query @ query) ** 0.5 * (other @ other) ** 0.5))
    assert best["similarity"] == pytest.approx(cosine, abs=1e-3)
    assert sample.prompt.startswith("a quiet lake scene")


def test_an_encoder_other_than_the_versions_says_so(policy, editor, pinned, registry):
    decisions = [{"results": [{
        "kind": "classifier", "rule_id": f"classifier:{pinned.run.classifier_id}",
        "explanation": {"version": pinned.run.version.number},
    }]}]  # fmt: skip
    pins = dict(pinned.run.version.feature_pins)
    pinned.run.version.__class__.objects.filter(pk=pinned.run.version.pk).update(
        feature_pins={**pins, "encoder": {**pins["encoder"], "sha256": "f" * 64}}
    )
    [found] = classifier_neighbours.nearest_samples(
        tenant=policy.tenant, decisions=decisions, inputs=[("x", "", None)], registry=registry
    )
    assert (
        "which this worker has not loaded"
        in found[f"classifier:{pinned.run.classifier_id}"]["note"]
    )


def test_samples_are_resolved_in_the_runs_tenant_only(
    policy, editor, pinned, registry, other_tenant
):
    run = live(policy, editor, "our mascot pose again and again")
    stored = run.result["neighbours"]
    rule_id = f"classifier:{pinned.run.classifier_id}"
    mine = neighbour_samples(tenant=policy.tenant, neighbours=stored)
    assert len(mine[0][rule_id]["positive"]) == 3
    assert mine[0][rule_id]["positive"][0]["row"].prompt.startswith("our mascot pose")
    theirs = neighbour_samples(tenant=other_tenant, neighbours=stored)
    assert theirs[0][rule_id]["positive"] == []
    assert theirs[0][rule_id]["negative"] == []
    foreign = SampleFactory(sample_set__tenant=other_tenant)
    forged = [{rule_id: {"positive": [{"sample": foreign.pk, "similarity": 1.0}]}}]
    assert neighbour_samples(tenant=policy.tenant, neighbours=forged)[0][rule_id]["positive"] == []
