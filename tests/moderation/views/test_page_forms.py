"""The scoring pages read their input through forms: a bad value is a form error (400) or,
for a filter, the default view; an id that names nothing, or another tenant's, is a 404."""

import pytest
from django.urls import reverse

from moderation.models import Sample, TestRun
from tests.moderation.factories import (
    SampleFactory,
    SampleResultFactory,
    SampleSetFactory,
    SuiteRunFactory,
)
from tests.policy_admin.factories import PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]


@pytest.fixture
def live_run(policy, editor):
    return TestRun.objects.create(
        tenant=policy.tenant, policy=policy, prompt="hello", policy_revision=1, created_by=editor
    )


@pytest.fixture
def sample_set(tenant):
    sample_set = SampleSetFactory(tenant=tenant, name="golden")
    SampleFactory(sample_set=sample_set)
    return sample_set


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"tenant": "acme", **kwargs})


def test_a_version_that_is_not_a_number_is_404_on_the_console_and_the_suite_start(
    client, editor, policy, sample_set
):
    client.force_login(editor)
    console = url("live-console", slug="default")
    assert client.post(console, {"prompt": "x", "version": "v1"}).status_code == 404
    start = url("suite-start", pk=sample_set.pk)
    assert client.post(start, {"policy": "default", "version": "v1"}).status_code == 404
    assert not TestRun.objects.exists()


def test_adding_a_live_input_names_what_is_missing_or_malformed(
    client, editor, live_run, sample_set
):
    client.force_login(editor)
    add = url("live-run-sample", slug="default", pk=live_run.pk)
    labels = {"expected_action": "block"}
    htmx = {"HTTP_HX_REQUEST": "true"}
    no_set = client.post(add, labels, **htmx)
    assert no_set.status_code == 400
    assert "Choose the sample set to add the input to." in no_set.content.decode()
    bad_input = client.post(add, {**labels, "sample_set": sample_set.pk, "input": "one"}, **htmx)
    assert bad_input.status_code == 400
    assert "Say which input to add by its number." in bad_input.content.decode()
    assert Sample.objects.count() == 1


def test_importing_without_a_file_says_what_to_choose(client, editor, sample_set):
    client.force_login(editor)
    page = client.post(url("sample-set-import", pk=sample_set.pk), follow=True).content.decode()
    assert "Choose a zip archive or a CSV/JSONL manifest to import." in page


def test_an_empty_set_name_is_refused_with_the_reason(client, editor):
    client.force_login(editor)
    response = client.post(url("sample-set-list"), {"name": "  "})
    assert response.status_code == 400
    assert "Give the sample set a name." in response.content.decode()


def test_filters_with_wrong_values_show_the_default_view(client, viewer, sample_set, policy):
    client.force_login(viewer)
    query = {"import": "latest", "page": "many", "tag": "", "label": ""}
    assert client.get(url("sample-set", pk=sample_set.pk), query).status_code == 200
    suite = SuiteRunFactory(policy=policy, sample_set=sample_set)
    page = client.get(url("suite-run", pk=suite.pk), {"show": "everything", "page": "x"})
    assert page.status_code == 200
    drift = url("policy-drift", slug="default")
    assert client.get(drift, {"baseline": "first", "window": "-3"}).status_code == 200


def test_compare_with_an_id_that_is_not_a_number_or_another_tenants_is_404(
    client, viewer, policy, sample_set, other_tenant
):
    suite = SuiteRunFactory(policy=policy, sample_set=sample_set)
    theirs = SuiteRunFactory(policy=PolicyFactory(tenant=other_tenant))
    client.force_login(viewer)
    compare = url("suite-compare", pk=suite.pk)
    assert client.get(compare, {"with": "latest"}).status_code == 404
    assert client.get(compare, {"with": theirs.pk}).status_code == 404


def test_a_tuning_target_that_is_not_a_number_is_a_400_with_the_reason(
    client, viewer, policy, sample_set
):
    suite = SuiteRunFactory(policy=policy, sample_set=sample_set)
    rule = {
        "kind": "category", "rule_id": "violence:prompt", "rule_name": "violence (policy)",
        "fired": False, "score": 0.5, "threshold": 0.5, "explanation": {"category": "violence"},
    }  # fmt: skip
    SampleResultFactory(run=suite, decision={"action": "allow", "results": [rule]})
    client.force_login(viewer)
    response = client.get(url("suite-tune", pk=suite.pk), {"value": "high"})
    assert response.status_code == 400
    assert "The target must be a number." in response.content.decode()
