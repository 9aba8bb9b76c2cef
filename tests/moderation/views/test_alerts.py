"""Alert rule pages: rights, outsiders, validation of each kind's parameters."""

import pytest
from django.urls import reverse, reverse_lazy

from moderation.models import AlertEvent, AlertRule
from tests.moderation.factories import SampleSetFactory
from tests.policy_admin.factories import PolicyFactory

pytestmark = pytest.mark.django_db

LIST = reverse_lazy("alert-list", kwargs={"tenant": "acme"})
NEW = reverse_lazy("alert-create", kwargs={"tenant": "acme"})


def rule_url(rule, tenant="acme"):
    return reverse("alert-rule", kwargs={"tenant": tenant, "pk": rule.pk})


def drift_rule_post(policy, **extra):
    return {
        "name": "Drift on default",
        "kind": "drift",
        "policy": policy.pk,
        "enabled": "on",
        "email_to": "oncall@example.com",
        "drift__baseline": "previous",
        "drift__psi": "0.2",
        **extra,
    }


@pytest.fixture
def rule(tenant, policy):
    return AlertRule.objects.create(
        tenant=tenant,
        name="Fleet",
        kind="fleet",
        policy=policy,
        params={"channel": "production", "minutes": 10},
        email_to="a@example.com",
    )


def test_anonymous_is_sent_to_login(client, rule):
    for url in (LIST, NEW, rule_url(rule)):
        assert client.get(url).status_code == 302


def test_outsider_gets_404(client, rule, outsider):
    client.force_login(outsider)
    assert client.get(LIST).status_code == 404
    assert client.get(rule_url(rule, "globex")).status_code == 404
    delete = reverse("alert-rule-delete", kwargs={"tenant": "globex", "pk": rule.pk})
    assert client.get(delete).status_code == 404
    assert client.post(delete).status_code == 404
    assert AlertRule.objects.filter(pk=rule.pk).exists()


def test_viewer_reads_but_cannot_change(client, rule, viewer):
    AlertEvent.objects.create(tenant=rule.tenant, rule=rule, state="firing", message="stale 12 min")
    client.force_login(viewer)
    body = client.get(LIST).content.decode()
    assert "stale 12 min" in body
    assert client.post(NEW, drift_rule_post(rule.policy)).status_code == 403


def test_editor_creates_a_drift_rule(client, policy, editor):
    client.force_login(editor)
    response = client.post(NEW, drift_rule_post(policy))
    assert response.status_code == 302
    rule = AlertRule.objects.get(name="Drift on default")
    assert (rule.policy, rule.sample_set) == (policy, None)
    assert rule.params == {"baseline": "previous", "psi": 0.2, "against": "suite"}


def test_a_missing_parameter_is_named_next_to_its_field(client, policy, editor):
    client.force_login(editor)
    response = client.post(NEW, drift_rule_post(policy, drift__psi=""))
    assert response.status_code == 400
    assert "This rule kind needs this value." in response.content.decode()


def test_the_form_offers_only_the_tenants_own_policies_and_sets(
    client, tenant, other_tenant, policy, editor
):
    PolicyFactory(tenant=other_tenant, name="Their secret policy")
    SampleSetFactory(tenant=tenant, name="Our kids set")
    SampleSetFactory(tenant=other_tenant, name="Their secret set")
    client.force_login(editor)
    body = client.get(NEW).content.decode()
    assert policy.name in body
    assert "Our kids set" in body
    assert "Their secret" not in body


def test_another_tenants_policy_id_is_refused(client, other_tenant, policy, editor):
    theirs = PolicyFactory(tenant=other_tenant, slug="default")
    client.force_login(editor)
    response = client.post(NEW, drift_rule_post(theirs))
    assert response.status_code == 400
    assert "Choose one of Acme Images&#x27;s policies." in response.content.decode()
    assert not AlertRule.objects.exists()


def test_a_rule_needs_somewhere_to_deliver(client, policy, editor):
    client.force_login(editor)
    response = client.post(NEW, drift_rule_post(policy, email_to=""))
    assert response.status_code == 400
    assert "at least one email address or a webhook URL" in response.content.decode()


def test_editor_deletes_a_rule_after_confirming(client, rule, editor):
    client.force_login(editor)
    delete = reverse("alert-rule-delete", kwargs={"tenant": "acme", "pk": rule.pk})
    page = client.get(delete)
    assert "Delete the alert rule “Fleet”?" in page.content.decode()
    assert AlertRule.objects.exists()  # asking deletes nothing
    assert client.post(delete).status_code == 302
    assert not AlertRule.objects.exists()


def test_viewer_cannot_delete_a_rule(client, rule, viewer):
    client.force_login(viewer)
    delete = reverse("alert-rule-delete", kwargs={"tenant": "acme", "pk": rule.pk})
    assert client.post(delete).status_code == 403
    assert AlertRule.objects.exists()


def metric_rule_post(policy, sample_set, **extra):
    return {
        "name": "Nudity recall on kids",
        "kind": "metric_below",
        "policy": policy.pk,
        "sample_set": sample_set.pk,
        "enabled": "on",
        "email_to": "oncall@example.com",
        "metric_below__metric": "recall",
        "metric_below__outcome": "category:nudity",
        "metric_below__minimum": "0.9",
        **extra,
    }


def test_editor_creates_a_metric_rule_on_a_category(client, tenant, policy, editor):
    kids = SampleSetFactory(tenant=tenant, name="Kids")
    client.force_login(editor)
    assert client.post(NEW, metric_rule_post(policy, kids)).status_code == 302
    rule = AlertRule.objects.get(name="Nudity recall on kids")
    assert (rule.policy, rule.sample_set) == (policy, kids)
    assert rule.params == {"metric": "recall", "outcome": "category:nudity", "minimum": 0.9}


def test_a_metric_rule_needs_a_sample_set(client, tenant, policy, editor):
    client.force_login(editor)
    post = metric_rule_post(policy, SampleSetFactory(tenant=tenant))
    response = client.post(NEW, {**post, "sample_set": ""})
    assert response.status_code == 400
    assert "This rule kind needs this value." in response.content.decode()


def test_a_metric_rule_must_watch_one_of_the_tenants_sample_sets(
    client, other_tenant, policy, editor
):
    theirs = SampleSetFactory(tenant=other_tenant, name="Kids")
    client.force_login(editor)
    response = client.post(NEW, metric_rule_post(policy, theirs))
    assert response.status_code == 400
    assert "Choose one of Acme Images&#x27;s sample sets." in response.content.decode()
    assert not AlertRule.objects.exists()


def test_a_drift_rule_keeps_no_sample_set_posted_by_the_hidden_metric_fields(
    client, tenant, policy, editor
):
    client.force_login(editor)
    post = drift_rule_post(policy, sample_set=SampleSetFactory(tenant=tenant).pk)
    assert client.post(NEW, post).status_code == 302
    assert AlertRule.objects.get().sample_set is None


def test_a_rule_whose_policy_was_lost_says_so(client, tenant, editor):
    AlertRule.objects.create(
        tenant=tenant,
        name="Orphan",
        kind="drift",
        enabled=False,
        params={"policy": "gone"},
        email_to="a@example.com",
    )
    client.force_login(editor)
    body = client.get(LIST).content.decode()
    assert "policy=gone" in body
    assert "What it watched no longer exists" in body
