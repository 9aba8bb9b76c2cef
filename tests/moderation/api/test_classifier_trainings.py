"""API: starting and reading trainings; another tenant's sample set or classifier is 404."""

import pytest
from django.urls import reverse

from moderation.models import TrainingRun
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import CustomClassifierFactory

pytestmark = pytest.mark.django_db


def url(classifier, name="list", tenant="acme", **kwargs):
    return reverse(
        f"api-training-{name}", kwargs={"tenant": tenant, "classifier_pk": classifier.pk, **kwargs}
    )


@pytest.fixture
def classifier(policy):
    return CustomClassifierFactory(policy=policy)


def fill(sample_set, positives, negatives=12):
    for n in range(positives):
        SampleFactory(sample_set=sample_set, prompt=f"mascot {n}", tags=["mascot"])
    for n in range(negatives):
        SampleFactory(sample_set=sample_set, prompt=f"lake {n}")


def test_editor_starts_a_training(api_client, editor, classifier, tenant):
    sample_set = SampleSetFactory(tenant=tenant)
    fill(sample_set, 12)
    api_client.force_authenticate(editor)
    response = api_client.post(url(classifier), {"sample_set": sample_set.pk}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    listed = api_client.get(url(classifier)).json()
    assert [r["id"] for r in listed["results"]] == [response.json()["id"]]
    detail = api_client.get(url(classifier, "detail", pk=response.json()["id"])).json()
    assert (detail["progress_done"], detail["version"], detail["metrics"]) == (0, None, None)


def test_too_few_samples_is_a_400_with_counts(api_client, editor, classifier, tenant):
    sample_set = SampleSetFactory(tenant=tenant)
    fill(sample_set, 3)
    api_client.force_authenticate(editor)
    response = api_client.post(url(classifier), {"sample_set": sample_set.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"] == {"positives": 3, "negatives": 12}
    assert "Add 7 more positives" in response.json()["message"]


def test_another_tenants_sample_set_is_404(api_client, editor, classifier, other_tenant):
    theirs = SampleSetFactory(tenant=other_tenant)
    fill(theirs, 12)
    api_client.force_authenticate(editor)
    response = api_client.post(url(classifier), {"sample_set": theirs.pk}, format="json")
    assert response.status_code == 404
    assert not TrainingRun.objects.exists()


def test_another_tenants_classifier_is_404(api_client, outsider, classifier):
    api_client.force_authenticate(outsider)
    assert api_client.get(url(classifier, tenant="globex")).status_code == 404
    assert api_client.get(url(classifier)).status_code == 404


def test_viewer_reads_but_cannot_train(api_client, viewer, classifier, tenant):
    api_client.force_authenticate(viewer)
    assert api_client.get(url(classifier)).status_code == 200
    response = api_client.post(url(classifier), {"sample_set": 1}, format="json")
    assert response.status_code == 403
