"""API: custom classifiers of a policy, their versions, and "use this version"."""

import pytest
from django.urls import reverse

from policy_admin.models import CustomClassifier
from tests.moderation.engine.conftest import FakeModels
from tests.policy_admin.factories import CustomClassifierFactory, PolicyFactory
from tests.policy_admin.services.test_classifiers import make_version

pytestmark = pytest.mark.django_db


def url(name="list", tenant="acme", policy="default", **kwargs):
    return reverse(f"policy-classifier-{name}", kwargs={"tenant": tenant, "policy": policy,
                                                        **kwargs})  # fmt: skip


def test_editor_creates_a_classifier(api_client, editor, policy):
    api_client.force_authenticate(editor)
    body = {
        "name": "Mascot", "target": "image", "positives": {"tags": ["mascot"]},
        "negatives": {"actions": ["allow"]}, "revision": policy.revision,
    }  # fmt: skip
    response = api_client.post(url(), body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["version"] is None
    assert CustomClassifier.objects.get().positives == {"tags": ["mascot"]}


def test_a_filter_that_selects_nothing_is_refused(api_client, editor, policy):
    api_client.force_authenticate(editor)
    body = {"name": "X", "positives": {"tags": []}, "negatives": {"actions": ["allow"]},
            "revision": policy.revision}  # fmt: skip
    response = api_client.post(url(), body, format="json")
    assert response.status_code == 400
    assert "selects nothing" in str(response.json()["extra"])


def test_viewer_cannot_create(api_client, viewer, policy):
    api_client.force_authenticate(viewer)
    response = api_client.post(url(), {"name": "x"}, format="json")
    assert response.status_code == 403


def test_use_a_version_through_the_api(api_client, editor, policy):
    classifier = CustomClassifierFactory(policy=policy)
    make_version(classifier, FakeModels())
    api_client.force_authenticate(editor)
    response = api_client.post(
        url("use", pk=classifier.pk), {"version": 1, "revision": policy.revision}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 1
    versions = api_client.get(url("versions", pk=classifier.pk)).json()
    assert [v["number"] for v in versions] == [1]
    missing = api_client.post(
        url("use", pk=classifier.pk), {"version": 9, "revision": policy.revision + 1},
        format="json",
    )  # fmt: skip
    assert missing.status_code == 404


def test_another_tenants_classifier_is_404(api_client, outsider, policy, other_tenant):
    classifier = CustomClassifierFactory(policy=policy)
    PolicyFactory(tenant=other_tenant, slug="default")
    api_client.force_authenticate(outsider)
    assert api_client.get(url("detail", tenant="globex", pk=classifier.pk)).status_code == 404
    assert api_client.get(url("versions", tenant="globex", pk=classifier.pk)).status_code == 404
    assert api_client.get(url("detail", pk=classifier.pk)).status_code == 404
