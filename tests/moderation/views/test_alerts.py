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


def drift_rule_post(**extra):
    return {
        "name": "Drift on default",
        "kind": "drift",
        "enabled": "on",
        "email_to": "oncall@example.com",
        "drift__policy": "default",
        "drift__baseline": "previous",
        "drift__psi": "0.2",
        **extra,
    }


@pytest.fixture
def rule(tenant):
    return AlertRule.objects.create(
        tenant=tenant,
        name="Fleet",
        kind="fleet",
        params={"policy": "default", "channel": "production", "minutes": 10},
        email_to="a@example.com",
    )


def test_anonymous_is_sent_to_login(client, rule):
    for url in (LIST, NEW, rule_url(rule)):
        assert client.get(url).status_code == 302


def test_outsider_gets_404(client, rule, outsider):
    client.force_login(outsider)
    assert client.get(LIST).status_code == 404
    assert client.get(rule_url(rule, "globex")).status_code == 404
    assert client.post(rule_url(rule, "globex"), {"delete": "1"}).status_code == 404
    assert AlertRule.objects.filter(pk=rule.pk).exists()


def test_viewer_reads_but_cannot_change(client, rule, viewer):
    AlertEvent.objects.create(tenant=rule.tenant, rule=rule, state="firing", message="stale 12 min")
    client.force_login(viewer)
    body = client.get(LIST).content.decode()
    assert "stale 12 min" in body
    assert client.post(NEW, drift_rule_post()).status_code == 403


def test_editor_creates_a_drift_rule(client, tenant, editor):
    PolicyFactory(tenant=tenant, slug="default")
    client.force_login(editor)
    response = client.post(NEW, drift_rule_post())
    assert response.status_code == 302
    rule = AlertRule.objects.get(name="Drift on default")
    assert rule.params == {"policy": "default", "baseline": "previous", "psi": 0.2}


def test_a_missing_parameter_is_named_next_to_its_field(client, tenant, editor):
    PolicyFactory(tenant=tenant, slug="default")
    client.force_login(editor)
    response = client.post(NEW, drift_rule_post(drift__psi=""))
    assert response.status_code == 400
    assert "This rule kind needs this value." in response.content.decode()


def test_another_tenants_policy_cannot_be_watched(client, tenant, other_tenant, editor):
    PolicyFactory(tenant=other_tenant, slug="default")
    client.force_login(editor)
    response = client.post(NEW, drift_rule_post())
    assert response.status_code == 400
    assert "Acme Images has no policy with the slug" in response.content.decode()


def test_a_rule_needs_somewhere_to_deliver(client, tenant, editor):
    PolicyFactory(tenant=tenant, slug="default")
    client.force_login(editor)
    response = client.post(NEW, drift_rule_post(email_to=""))
    assert response.status_code == 400
    assert "at least one email address or a webhook URL" in response.content.decode()


def test_editor_deletes_a_rule(client, rule, editor):
    client.force_login(editor)
    assert client.post(rule_url(rule), {"delete": "1"}).status_code == 302
    assert not AlertRule.objects.exists()


def metric_rule_post(**extra):
    return {
        "name": "Nudity recall on kids",
        "kind": "metric_below",
        "enabled": "on",
        "email_to": "oncall@example.com",
        "metric_below__policy": "default",
        "metric_below__sample_set": "Kids",
        "metric_below__metric": "recall",
        "metric_below__outcome": "category:nudity",
        "metric_below__minimum": "0.9",
        **extra,
    }


def test_editor_creates_a_metric_rule_on_a_category(client, tenant, editor):
    PolicyFactory(tenant=tenant, slug="default")
    SampleSetFactory(tenant=tenant, name="Kids")
    client.force_login(editor)
    assert client.post(NEW, metric_rule_post()).status_code == 302
    rule = AlertRule.objects.get(name="Nudity recall on kids")
    assert rule.params == {
        "policy": "default",
        "sample_set": "Kids",
        "metric": "recall",
        "outcome": "category:nudity",
        "minimum": 0.9,
    }


def test_a_metric_rule_must_name_one_of_the_tenants_sample_sets(
    client, tenant, other_tenant, editor
):
    PolicyFactory(tenant=tenant, slug="default")
    SampleSetFactory(tenant=other_tenant, name="Kids")
    client.force_login(editor)
    response = client.post(NEW, metric_rule_post())
    assert response.status_code == 400
    assert "Acme Images has no sample set named “Kids”" in response.content.decode()
    assert not AlertRule.objects.exists()
