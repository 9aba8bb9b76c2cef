"""Migration 0008: alert rules' references by name become foreign keys, within each tenant."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("moderation", "0007_alert_outcome_flag_or_worse")]
AFTER = [("moderation", "0008_alert_rule_foreign_keys")]

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets):
    """Migrate the test database to `targets`; the apps registry as it is there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps():
    """The schema before 0008; the database goes back to the latest schema afterwards."""
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_references_resolve_within_the_rules_tenant_and_orphans_are_turned_off(old_apps):
    Tenant = old_apps.get_model("tenants", "Tenant")
    Policy = old_apps.get_model("policy_admin", "Policy")
    SampleSet = old_apps.get_model("moderation", "SampleSet")
    AlertRule = old_apps.get_model("moderation", "AlertRule")
    acme = Tenant.objects.create(name="Acme", slug="acme")
    globex = Tenant.objects.create(name="Globex", slug="globex")
    ours = Policy.objects.create(tenant=acme, name="Default", slug="default")
    theirs = Policy.objects.create(tenant=globex, name="Default", slug="default")
    Policy.objects.create(tenant=globex, name="Only theirs", slug="only-theirs")
    kids = SampleSet.objects.create(tenant=acme, name="Kids")
    their_kids = SampleSet.objects.create(tenant=globex, name="Kids")
    SampleSet.objects.create(tenant=globex, name="Only theirs")
    metric = {"metric": "recall", "outcome": "block", "minimum": 0.9}

    def rule(tenant, name, kind, **params):
        return AlertRule.objects.create(
            tenant=tenant, name=name, kind=kind, params=params, email_to="a@example.com"
        ).pk

    rules = {
        "metric": rule(acme, "m", "metric_below", policy="default", sample_set="Kids", **metric),
        "drift": rule(acme, "d", "drift", policy="default", baseline="previous", psi=0.25),
        "their metric": rule(
            globex, "m", "metric_below", policy="default", sample_set="Kids", **metric
        ),
        "other tenant's slug": rule(
            acme, "f", "fleet", policy="only-theirs", channel="production", minutes=10
        ),
        "other tenant's set": rule(
            acme, "m2", "metric_below", policy="default", sample_set="Only theirs", **metric
        ),
        "no params": rule(acme, "empty", "metric_below"),
    }

    new_apps = migrate(AFTER)
    migrated = {
        key: new_apps.get_model("moderation", "AlertRule").objects.get(pk=pk)
        for key, pk in rules.items()
    }

    def watches(key):
        found = migrated[key]
        return found.policy_id, found.sample_set_id, found.enabled, found.params

    assert watches("metric") == (ours.pk, kids.pk, True, metric)
    assert watches("drift") == (ours.pk, None, True, {"baseline": "previous", "psi": 0.25})
    assert watches("their metric") == (theirs.pk, their_kids.pk, True, metric)
    # Never resolved in another tenant: turned off, the stale name kept for its owner to see.
    assert watches("other tenant's slug") == (
        None,
        None,
        False,
        {"policy": "only-theirs", "channel": "production", "minutes": 10},
    )
    assert watches("other tenant's set") == (
        ours.pk,
        None,
        False,
        {"sample_set": "Only theirs", **metric},
    )
    assert watches("no params") == (None, None, False, {})

    back = migrate(BEFORE).get_model("moderation", "AlertRule")
    assert back.objects.get(pk=rules["metric"]).params == {
        "policy": "default",
        "sample_set": "Kids",
        **metric,
    }
    assert back.objects.get(pk=rules["other tenant's slug"]).params["policy"] == "only-theirs"
