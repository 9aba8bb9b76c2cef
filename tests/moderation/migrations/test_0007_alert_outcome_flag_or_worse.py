"""Migration 0007: metric_below rules on the "flag" outcome name "flag_or_worse", and back."""

import importlib

import pytest
from django.apps import apps

from moderation.models import AlertRule


def _migration():
    return importlib.import_module("moderation.migrations.0007_alert_outcome_flag_or_worse")


def _metric_rule(tenant, name, outcome, kind=AlertRule.Kind.METRIC_BELOW):
    params = {"policy": "default", "sample_set": "Kids", "metric": "recall", "outcome": outcome}
    # Off: rules of today's schema must watch a policy by foreign key when on, and
    # this migration ran before those keys existed.
    return AlertRule.objects.create(
        tenant=tenant, name=name, kind=kind, params=params, enabled=False
    )


@pytest.mark.django_db
def test_the_migration_renames_flag_rules_to_flag_or_worse_and_back(tenant):
    flag = _metric_rule(tenant, "flag", "flag")
    block = _metric_rule(tenant, "block", "block")
    other = _metric_rule(tenant, "drift", "flag", kind=AlertRule.Kind.DRIFT)

    def outcomes():
        rules = [flag, block, other]
        return [AlertRule.objects.get(pk=r.pk).params["outcome"] for r in rules]

    _migration().forwards(apps, None)
    assert outcomes() == ["flag_or_worse", "block", "flag"]
    _migration().backwards(apps, None)
    assert outcomes() == ["flag", "block", "flag"]
