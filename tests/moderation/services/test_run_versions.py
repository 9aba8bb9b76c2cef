"""Suites and live tests of a published version: its stored bundle, not the draft's rules."""

import pytest
from django.urls import reverse, reverse_lazy

from kernel.errors import ApplicationError
from moderation.models import TestRun
from moderation.services import runs, suites
from moderation.tasks.gpu import run_execute, suite_run_execute
from policy_admin.models import PolicyVersion
from policy_admin.services.publishing import channel_promote, policy_publish
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued", "media")]

LIVE = reverse_lazy("live-test-list", kwargs={"tenant": "acme"})
SUITES = reverse_lazy("api-suite-list", kwargs={"tenant": "acme"})
CONSOLE = reverse_lazy("live-console", kwargs={"tenant": "acme", "slug": "default"})


def tenant_url(name, **kwargs):
    return reverse(name, kwargs={"tenant": "acme", **kwargs})


@pytest.fixture
def v1(policy, editor, fleet_isolated):
    """v1 blocks "forbidden"; after publishing, the draft also blocks "smuggled"."""
    KeywordRuleSetFactory(policy=policy, name="Banned", terms="forbidden", action="block")
    version = policy_publish(policy=policy, actor=editor, revision=policy.revision)
    channel_promote(policy=policy, actor=editor, channel="production", number=version.number)
    KeywordRuleSetFactory(policy=policy, name="Added later", terms="smuggled", action="block")
    policy.revision += 1
    policy.save(update_fields=["revision"])
    return version


@pytest.fixture
def sample_set(tenant):
    sample_set = SampleSetFactory(tenant=tenant, name="client")
    SampleFactory(
        sample_set=sample_set, external_id="old", prompt="forbidden", expected_action="block"
    )
    SampleFactory(
        sample_set=sample_set, external_id="new", prompt="smuggled", expected_action="block"
    )
    SampleFactory(sample_set=sample_set, external_id="ok", prompt="a kitten")
    return sample_set


def run_suite(django_capture_on_commit_callbacks, **kwargs) -> TestRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = suites.suite_start(**kwargs)
    suite_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == TestRun.Status.SUCCEEDED, run.error
    return run


def actions(run) -> dict:
    return dict(run.sample_results.values_list("sample__external_id", "action"))


def test_a_suite_on_version_1_judges_with_version_1_after_the_draft_changed(
    policy, v1, sample_set, editor, django_capture_on_commit_callbacks
):
    start = {"sample_set": sample_set, "policy": policy, "actor": editor}
    on_v1 = run_suite(django_capture_on_commit_callbacks, version=v1, **start)
    on_draft = run_suite(django_capture_on_commit_callbacks, **start)

    assert actions(on_v1) == {"old": "block", "new": "allow", "ok": "allow"}
    assert actions(on_draft) == {"old": "block", "new": "block", "ok": "allow"}
    assert (on_v1.version_number, on_v1.policy_revision) == (1, v1.revision)
    assert on_v1.bundle_sha256 == v1.sha256
    assert (on_draft.version_number, on_draft.policy_revision) == (None, policy.revision)
    assert (on_v1.target_label, on_draft.target_label) == ("v1", "draft")


def test_a_live_test_on_a_version_judges_with_its_stored_bundle(policy, v1, editor, queued):
    run = runs.live_test_start(policy=policy, actor=editor, prompt="smuggled", version=v1)
    run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == TestRun.Status.SUCCEEDED, run.error
    assert [d["action"] for d in run.result["decisions"]] == ["allow"]
    assert run.result["bundle"]["version"] == 1
    assert run.bundle_sha256 == v1.sha256


def test_a_version_whose_stored_bytes_changed_is_refused(
    policy, v1, sample_set, editor, django_capture_on_commit_callbacks
):
    PolicyVersion.objects.filter(pk=v1.pk).update(
        bundle=bytes(v1.bundle).replace(b"forbidden", b"permitted")
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = suites.suite_start(sample_set=sample_set, policy=policy, actor=editor, version=v1)
    suite_run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == TestRun.Status.FAILED
    assert "does not match its sha256" in run.error
    assert not run.sample_results.exists()


def test_a_version_of_another_policy_is_refused(policy, v1, sample_set, editor, tenant):
    other = PolicyFactory(tenant=tenant, slug="kids", name="Kids")
    with pytest.raises(ApplicationError, match="v1 is a version of another policy, not of Kids"):
        suites.suite_start(sample_set=sample_set, policy=other, actor=editor, version=v1)
    with pytest.raises(ApplicationError, match="another policy"):
        runs.live_test_start(policy=other, actor=editor, prompt="hi", version=v1)
    assert not TestRun.objects.exists()


def test_api_runs_a_version_and_refuses_other_tenants_and_other_policies(
    api_client, policy, v1, sample_set, editor, outsider, other_tenant
):
    theirs = PolicyFactory(tenant=other_tenant, slug="default")
    KeywordRuleSetFactory(policy=theirs, terms="x")
    their_v1 = policy_publish(policy=theirs, actor=outsider, revision=theirs.revision)
    PolicyFactory(tenant=policy.tenant, slug="kids")
    api_client.force_authenticate(editor)

    suite = {"sample_set": sample_set.pk, "policy": "default"}
    response = api_client.post(SUITES, {**suite, "version": v1.pk}, format="json")
    assert response.status_code == 202
    assert response.json()["version_number"] == 1
    live = {"policy": "default", "prompt": "smuggled", "version": v1.pk}
    assert api_client.post(LIVE, live).json()["version_number"] == 1

    wrong_tenant = {**suite, "version": their_v1.pk}
    assert api_client.post(SUITES, wrong_tenant, format="json").status_code == 404
    assert api_client.post(LIVE, {**live, "version": their_v1.pk}).status_code == 404
    wrong_policy = {"sample_set": sample_set.pk, "policy": "kids", "version": v1.pk}
    response = api_client.post(SUITES, wrong_policy, format="json")
    assert response.status_code == 400
    assert "version of another policy" in response.json()["message"]
    assert TestRun.objects.filter(tenant=policy.tenant).count() == 2


def test_pages_offer_versions_and_refuse_other_tenants_and_other_policies(
    client, policy, v1, sample_set, editor, viewer, outsider, other_tenant
):
    theirs = PolicyFactory(tenant=other_tenant, slug="default")
    KeywordRuleSetFactory(policy=theirs, terms="x")
    their_v1 = policy_publish(policy=theirs, actor=outsider, revision=theirs.revision)
    PolicyFactory(tenant=policy.tenant, slug="kids", name="Kids")
    client.force_login(editor)
    set_page = client.get(tenant_url("sample-set", pk=sample_set.pk)).content.decode()
    assert "<title>client · Sample sets" in set_page
    assert (
        f'<option value="{v1.pk}" data-policy="default">Version 1 (production)</option>' in set_page
    )
    console = client.get(CONSOLE).content.decode()
    assert f'<option value="{v1.pk}">Version 1 (production)</option>' in console

    start = tenant_url("suite-start", pk=sample_set.pk)
    assert client.post(start, {"policy": "default", "version": their_v1.pk}).status_code == 404
    page = client.post(start, {"policy": "kids", "version": v1.pk}, follow=True).content.decode()
    assert "v1 is a version of another policy, not of Kids" in page
    assert not TestRun.objects.exists()
    response = client.post(start, {"policy": "default", "version": v1.pk})
    run = TestRun.objects.get()
    assert response.url == tenant_url("suite-run", pk=run.pk)
    assert "Default v1 (built from revision" in client.get(response.url).content.decode()
    assert (
        f"Default v1 (r{v1.revision})"
        in client.get(tenant_url("sample-set", pk=sample_set.pk)).content.decode()
    )

    assert client.post(CONSOLE, {"prompt": "x", "version": their_v1.pk}).status_code == 404
    client.force_login(viewer)
    assert client.post(start, {"policy": "default", "version": v1.pk}).status_code == 403


def test_the_impact_preview_defaults_to_the_latest_versions_suite(
    client, api_client, policy, v1, sample_set, editor, django_capture_on_commit_callbacks
):
    start = {"sample_set": sample_set, "policy": policy, "actor": editor}
    on_v1 = run_suite(django_capture_on_commit_callbacks, version=v1, **start)
    on_draft = run_suite(django_capture_on_commit_callbacks, **start)
    client.force_login(editor)

    run_page = client.get(tenant_url("suite-run", pk=on_draft.pk)).content.decode()
    assert "Impact preview: this draft against v1" in run_page
    assert f'<option value="{on_v1.pk}" selected>' in run_page
    page = client.get(tenant_url("suite-compare", pk=on_draft.pk)).content.decode()
    assert f"against #{on_v1.pk} (v1," in page
    assert "allow → block (1)" in page

    api_client.force_authenticate(editor)
    body = api_client.get(tenant_url("api-suite-compare", pk=on_draft.pk)).json()
    assert body["before"] == {"id": on_v1.pk, "version_number": 1}
    assert body["stricter"] == {"allow → block": ["new"]}


def test_without_a_versions_suite_the_preview_says_what_to_run(
    client, policy, v1, sample_set, editor, django_capture_on_commit_callbacks
):
    on_draft = run_suite(
        django_capture_on_commit_callbacks, sample_set=sample_set, policy=policy, actor=editor
    )
    client.force_login(editor)
    page = client.get(tenant_url("suite-compare", pk=on_draft.pk)).content.decode()
    assert "no finished suite of this policy&#x27;s latest published version" in page
