"""Alert rules: saving them, and moving them between ok and firing (one event per change)."""

from django.db import transaction
from django.utils import timezone

from kernel.errors import ApplicationError
from moderation.models import AlertEvent, AlertRule, TestRun
from moderation.services import alert_delivery as delivery
from policy_admin.models import Policy
from tenants.scoping import scoped


@transaction.atomic
def alert_observe(*, rule: AlertRule, firing: bool, message: str) -> AlertEvent | None:
    """Record what the rule's condition looks like now; deliver only when its state changes."""
    rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
    new_state = AlertRule.State.FIRING if firing else AlertRule.State.OK
    if not rule.enabled or new_state == rule.state:
        return None
    rule.state, rule.state_since = new_state, timezone.now()
    rule.save(update_fields=["state", "state_since"])
    event = AlertEvent.objects.create(
        tenant=rule.tenant, rule=rule, state=new_state, message=message
    )
    _deliver_later(event)
    return event


def _deliver_later(event: AlertEvent) -> None:
    """Queue the event's delivery on `default` once the change is committed.

    After commit, so a rolled-back change pages nobody; on a queue, so a slow
    mail server or webhook never holds the process that noticed the change (a
    GPU worker finishing a suite, the beat-driven fleet check).
    """
    from moderation.tasks.alerts import alert_deliver

    event_id = event.pk
    transaction.on_commit(lambda: alert_deliver.delay(event_id))


def alert_event_deliver(*, event_id: int) -> AlertEvent:
    """Send an event by email and webhook and record each attempt on it."""
    event = AlertEvent.objects.select_related("rule__tenant").get(pk=event_id)
    event.deliveries = delivery.deliver(event)
    event.save(update_fields=["deliveries"])
    return event


@transaction.atomic
def alert_rule_save(*, tenant, rule: AlertRule | None = None, params: dict, **fields) -> AlertRule:
    """Create or change a tenant's alert rule; the policy and sample set it watches are its own."""
    rule = rule or AlertRule(tenant=tenant)
    for key, value in {**fields, "params": params}.items():
        setattr(rule, key, value)
    rule.full_clean()
    baseline = str(params.get("baseline") or "previous")
    if baseline.isdigit() and not _is_suite_of(rule.policy, int(baseline)):
        raise ApplicationError(
            f"Suite run #{baseline} is not a test suite of the policy “{rule.policy.slug}”; give "
            "the id of one of its suites, or “previous”."
        )
    rule.save()
    return rule


def _is_suite_of(policy: Policy, run_id: int) -> bool:
    runs = scoped(TestRun, policy.tenant).filter(pk=run_id, kind=TestRun.Kind.SUITE, policy=policy)
    return runs.exists()


@transaction.atomic
def alert_rule_delete(*, rule: AlertRule) -> None:
    """Delete a rule and its history."""
    rule.delete()
