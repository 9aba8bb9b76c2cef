"""Review backlog and production precision rules: judged every minute by beat, fire and resolve."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from moderation.forms.alerts import AlertRuleForm
from moderation.models import AlertEvent, AlertRule, ReviewItem
from moderation.tasks.periodic import fleet_alerts_evaluate
from tests.moderation.production_data import audited_blocks
from tests.moderation.production_factories import DecisionRecordFactory, ReviewItemFactory
from tests.policy_admin.factories import PolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alerts_delivered_here")]


def rule(policy, kind, **params):
    return AlertRule.objects.create(
        tenant=policy.tenant,
        name=f"{kind} {AlertRule.objects.count()}",
        kind=kind,
        policy=policy,
        email_to="oncall@example.com",
        params=params,
    )


@pytest.fixture
def evaluate(django_capture_on_commit_callbacks):
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            fleet_alerts_evaluate.apply()

    return run


def waiting(version, minutes):
    item = ReviewItemFactory(record=DecisionRecordFactory(version=version))
    ReviewItem.objects.filter(pk=item.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes)
    )
    return item


def test_a_backlog_older_than_the_limit_fires_once_and_resolves_when_labelled(v1, evaluate):
    watched = rule(v1.policy, AlertRule.Kind.REVIEW_BACKLOG, minutes=30)
    waiting(v1, 10)
    evaluate()
    assert not AlertEvent.objects.exists()

    old = waiting(v1, 45)
    evaluate()
    evaluate()
    (event,) = AlertEvent.objects.all()
    assert event.state == AlertRule.State.FIRING
    assert "the oldest of 2 open item(s) has waited 45 min, more than 30 min" in event.message
    assert len(mail.outbox) == 1

    ReviewItem.objects.filter(pk=old.pk).update(status=ReviewItem.Status.DONE)
    evaluate()
    watched.refresh_from_db()
    assert watched.state == AlertRule.State.OK
    assert AlertEvent.objects.count() == 2


def test_another_policys_backlog_does_not_fire_the_rule(v1, tenant, evaluate):
    watched = rule(
        PolicyFactory(tenant=tenant, slug="other"), AlertRule.Kind.REVIEW_BACKLOG, minutes=5
    )
    waiting(v1, 60)
    evaluate()
    watched.refresh_from_db()
    assert watched.state == AlertRule.State.OK


def precision_rule(policy, **params):
    values = {"outcome": "block", "minimum": 0.8, "days": 7, "min_labels": 4} | params
    return rule(policy, AlertRule.Kind.PRODUCTION_PRECISION, **values)


def test_production_precision_below_the_floor_fires_and_resolves(v1, evaluate):
    watched = precision_rule(v1.policy)
    audited_blocks(v1, true_blocks=2, false_blocks=2)
    evaluate()
    (event,) = AlertEvent.objects.all()
    assert event.state == AlertRule.State.FIRING
    assert "is 0.5000 (95% interval 0.1500–0.8500, 4 audited decisions), below the floor" in (
        event.message
    )

    audited_blocks(v1, true_blocks=16, false_blocks=0)
    evaluate()
    watched.refresh_from_db()
    assert watched.state == AlertRule.State.OK
    assert "0.9000" in AlertEvent.objects.first().message


def test_too_few_audit_labels_leave_the_rule_as_it_is(v1, evaluate):
    watched = precision_rule(v1.policy, min_labels=10)
    audited_blocks(v1, true_blocks=0, false_blocks=5)
    evaluate()
    watched.refresh_from_db()
    assert watched.state == AlertRule.State.OK
    assert not AlertEvent.objects.exists()


def test_review_band_labels_do_not_count_towards_production_precision(v1, evaluate):
    from tests.moderation.production_data import labelled

    precision_rule(v1.policy, min_labels=1)
    for _ in range(5):
        labelled(v1, "block", ["allow"], audited=False)
    evaluate()
    assert not AlertEvent.objects.exists()


def test_the_form_asks_for_the_new_kinds_parameters(tenant, policy):
    data = {
        "name": "Precision",
        "kind": AlertRule.Kind.PRODUCTION_PRECISION,
        "policy": policy.pk,
        "enabled": "on",
        "email_to": "oncall@example.com",
    }
    form = AlertRuleForm(data=data, tenant=tenant)
    assert not form.is_valid()
    assert "This rule kind needs this value." in form.errors["prod_precision__minimum"]
    data |= {
        "prod_precision__outcome": "flag_or_worse",
        "prod_precision__minimum": "0.9",
        "prod_precision__days": "7",
        "prod_precision__min_labels": "30",
    }
    form = AlertRuleForm(data=data, tenant=tenant)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["params"] == {
        "outcome": "flag_or_worse",
        "minimum": 0.9,
        "days": 7,
        "min_labels": 30,
    }


def test_a_shadow_stopped_by_its_guard_fires_the_shadow_guard_rule(v1, editor, evaluate):
    from policy_admin.models import Channel
    from policy_admin.services.publishing import policy_publish
    from policy_admin.services.shadow import shadow_set
    from tests.policy_admin.factories import KeywordRuleSetFactory

    policy = v1.policy
    KeywordRuleSetFactory(policy=policy, name="Weapons", terms="gun", term_count=1)
    policy.revision += 1
    policy.save(update_fields=["revision"])
    policy_publish(policy=policy, actor=editor, revision=policy.revision)
    shadow_set(
        policy=policy, actor=editor, channel="production", number=2, rate=1.0,
        guard_points=5, guard_requests=100,
    )  # fmt: skip
    watcher = rule(policy, AlertRule.Kind.SHADOW_GUARD, hours=24)
    evaluate()
    watcher.refresh_from_db()
    assert watcher.state == AlertRule.State.OK
    from moderation.services.decision_batch import parse_decision_batch
    from moderation.services.ingest import decisions_ingest

    minute = timezone.now().replace(second=0, microsecond=0).isoformat()
    shadow_counts = [
        {"minute": minute, "channel": "production", "version": 1, "shadow_version": 2,
         "enforced_action": e, "shadow_action": s, "rule_id": "", "count": n}
        for e, s, n in [("allow", "allow", 80), ("allow", "block", 20)]
    ]  # fmt: skip
    upload = parse_decision_batch(
        {"batch_id": "g-1", "instance_id": "gpu", "shadow_counts": shadow_counts}
    )
    decisions_ingest(tenant=policy.tenant, policy=policy, upload=upload)
    channel = Channel.objects.get(policy=policy, name="production")
    assert channel.shadow_version is None  # 20 points more blocks > 5 over 100 requests
    evaluate()
    watcher.refresh_from_db()
    assert watcher.state == AlertRule.State.FIRING
    event = AlertEvent.objects.filter(rule=watcher).latest("id")
    assert "stopped by its guard" in event.message
    assert "blocked 20.0 points more" in event.message


def test_a_guard_below_its_limit_keeps_the_shadow(v1, editor):
    from moderation.services.decision_batch import parse_decision_batch
    from moderation.services.ingest import decisions_ingest
    from policy_admin.models import Channel
    from policy_admin.services.publishing import policy_publish
    from policy_admin.services.shadow import shadow_set
    from tests.policy_admin.factories import KeywordRuleSetFactory

    policy = v1.policy
    KeywordRuleSetFactory(policy=policy, name="Weapons", terms="gun", term_count=1)
    policy.revision += 1
    policy.save(update_fields=["revision"])
    policy_publish(policy=policy, actor=editor, revision=policy.revision)
    shadow_set(
        policy=policy, actor=editor, channel="production", number=2, rate=1.0,
        guard_points=5, guard_requests=1000,
    )  # fmt: skip
    minute = timezone.now().replace(second=0, microsecond=0).isoformat()
    upload = parse_decision_batch(
        {"batch_id": "g-2", "instance_id": "gpu", "shadow_counts": [
            {"minute": minute, "channel": "production", "version": 1, "shadow_version": 2,
             "enforced_action": "allow", "shadow_action": "block", "rule_id": "", "count": 50}
        ]}
    )  # fmt: skip
    decisions_ingest(tenant=policy.tenant, policy=policy, upload=upload)
    assert Channel.objects.get(policy=policy, name="production").shadow_version is not None
