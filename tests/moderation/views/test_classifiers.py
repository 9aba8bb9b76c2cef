"""Classifier pages: list and create, train, a trained version's plots, use, compare, tenancy."""

import pytest
from django.urls import reverse

from moderation.models import TrainingRun
from moderation.services import classifiers as training
from policy_admin.models import CustomClassifier
from tests.moderation.engine.conftest import FakeModels
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import CustomClassifierFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def page(name, tenant="acme", slug="default", **kwargs):
    return reverse(name, kwargs={"tenant": tenant, "slug": slug, **kwargs})


@pytest.fixture
def classifier(policy):
    return CustomClassifierFactory(policy=policy, name="Mascot")


@pytest.fixture
def sample_set(tenant):
    made = SampleSetFactory(tenant=tenant, name="Client samples")
    for n in range(14):
        SampleFactory(sample_set=made, prompt=f"our mascot pose {n}", tags=["mascot"])
    for n in range(14):
        SampleFactory(sample_set=made, prompt=f"a quiet lake {n}")
    return made


def trained(classifier, sample_set, editor, times=1):
    for _ in range(times):
        run = training.training_start(classifier=classifier, sample_set=sample_set, actor=editor)
        training.training_execute(run=training.training_claim(run_id=run.pk), models=FakeModels())
    classifier.refresh_from_db()
    return classifier


def test_editor_creates_a_classifier_from_the_list(client, editor, policy):
    client.force_login(editor)
    assert client.get(page("classifier-list")).status_code == 200
    response = client.post(page("classifier-list"), {
        "name": "Mascot", "target": "prompt", "positive_tags": "mascot, logo",
        "negative_actions": ["allow"], "threshold": "0.5", "target_precision": "0.9",
        "action": "block", "revision": policy.revision,
    })  # fmt: skip
    made = CustomClassifier.objects.get()
    assert response.status_code == 302
    assert made.positives == {"actions": [], "categories": [], "tags": ["mascot", "logo"]}
    assert made.negatives["actions"] == ["allow"]


def test_a_filter_selecting_nothing_is_shown_next_to_the_form(client, editor, policy):
    client.force_login(editor)
    response = client.post(page("classifier-list"), {
        "name": "Mascot", "target": "prompt", "negative_actions": ["allow"], "threshold": "0.5",
        "target_precision": "0.9", "action": "block", "revision": policy.revision,
    })  # fmt: skip
    assert response.status_code == 400
    assert "selects nothing" in response.content.decode()


def test_training_with_too_few_samples_says_how_many_more(client, editor, classifier, tenant):
    few = SampleSetFactory(tenant=tenant)
    SampleFactory(sample_set=few, prompt="mascot", tags=["mascot"])
    client.force_login(editor)
    response = client.post(
        page("classifier-train", pk=classifier.pk), {"sample_set": few.pk}, follow=True
    )
    assert "Add 9 more positives and 10 more negatives" in response.content.decode()
    assert not TrainingRun.objects.exists()


def test_training_is_queued_from_the_page(client, editor, classifier, sample_set):
    client.force_login(editor)
    client.post(page("classifier-train", pk=classifier.pk), {"sample_set": sample_set.pk})
    run = TrainingRun.objects.get()
    assert run.status == "queued"
    body = client.get(page("classifier", pk=classifier.pk) + "?part=trainings").content.decode()
    assert 'hx-trigger="every 2s"' in body
    assert 'data-status="queued"' in body


def test_a_trained_version_shows_metrics_plots_and_label_issues(
    client, viewer, editor, classifier, sample_set
):
    trained(classifier, sample_set, editor)
    client.force_login(viewer)
    body = client.get(page("classifier", pk=classifier.pk)).content.decode()
    for testid in ("version-metrics", "pr-curve", "calibration-curve", "score-histogram",
                   "label-issues"):  # fmt: skip
        assert f'data-testid="{testid}"' in body
    assert 'data-testid="use-version"' not in body  # a viewer cannot change the draft


def test_use_this_version_writes_it_into_the_draft(client, editor, classifier, sample_set):
    trained(classifier, sample_set, editor)
    client.force_login(editor)
    policy = classifier.policy
    policy.refresh_from_db()
    response = client.post(
        page("classifier-use", pk=classifier.pk),
        {"version": 1, "threshold": "0.42", "revision": policy.revision},
        follow=True,
    )
    assert "The draft now uses Mascot v1" in response.content.decode()
    classifier.refresh_from_db()
    assert (classifier.version.number, classifier.threshold) == (1, 0.42)


def test_two_versions_compare(client, editor, classifier, sample_set):
    trained(classifier, sample_set, editor, times=2)
    client.force_login(editor)
    body = client.get(page("classifier", pk=classifier.pk) + "?first=1&second=2").content.decode()
    assert 'data-testid="compare-table"' in body
    assert "Trained on the same samples." in body


def test_another_tenants_classifier_and_sample_set_are_404(
    client, outsider, editor, classifier, other_tenant
):
    PolicyFactory(tenant=other_tenant, slug="default")
    client.force_login(outsider)
    assert client.get(page("classifier", tenant="globex", pk=classifier.pk)).status_code == 404
    client.force_login(editor)
    theirs = SampleSetFactory(tenant=other_tenant)
    response = client.post(page("classifier-train", pk=classifier.pk), {"sample_set": theirs.pk})
    assert response.status_code == 404


def test_the_live_console_explains_a_classifier_score(classifier, editor):
    from django.template.loader import render_to_string

    from moderation.engine.evaluate import evaluate
    from moderation.views.presenters import decision_view
    from policy_admin.bundles.builder import bundle_build
    from policy_admin.services.classifiers import classifier_version_use
    from tests.policy_admin.services.test_classifiers import make_version

    models = FakeModels()
    version = make_version(classifier, models)
    classifier_version_use(
        classifier=classifier, version=version, actor=editor, revision=classifier.policy.revision
    )
    bundle = bundle_build(policy=classifier.policy, models=models).bundle
    decision = evaluate(bundle, prompt="the mascot", models=models).as_dict()
    view = decision_view(decision, prompt="the mascot", image=None)
    [rule] = [r for r in view.rules if r["kind"] == "classifier"]
    html = render_to_string("moderation/partials/decision.html", {"d": view, "concept_thumbs": {}})
    assert "trained classifier v1: calibrated probability" in html
    assert f"{rule['score']:.3f}" in html
