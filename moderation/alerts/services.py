"""Alert rules: saving them, and moving them between ok and firing (one event per change)."""

from django.db import transaction
from django.utils import timezone

from moderation.alerts import delivery
from moderation.alerts.models import AlertEvent, AlertRule
from moderation.models import SampleSet, TestRun
from policy_admin.errors import ApplicationError
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
    event_id = event.pk
    # Deliver after commit: a rolled-back change must not page anyone.
    transaction.on_commit(lambda: _deliver(event_id))
    return event


def _deliver(event_id: int) -> None:
    event = AlertEvent.objects.select_related("rule__tenant").get(pk=event_id)
    event.deliveries = delivery.deliver(event)
    event.save(update_fields=["deliveries"])


@transaction.atomic
def alert_rule_save(*, tenant, rule: AlertRule | None = None, params: dict, **fields) -> AlertRule:
    """Create or change a tenant's alert rule; the policy and sample set it names are its own."""
    slug = params.get("policy")
    if slug and not scoped(Policy, tenant).filter(slug=slug).exists():
        raise ApplicationError(f"{tenant.name} has no policy with the slug “{slug}”.")
    set_name = params.get("sample_set")
    if set_name and not scoped(SampleSet, tenant).filter(name=set_name).exists():
        raise ApplicationError(
            f"{tenant.name} has no sample set named “{set_name}”; give the name as the "
            "sample sets page shows it."
        )
    baseline = str(params.get("baseline") or "previous")
    if slug and baseline.isdigit() and not _is_suite_of(tenant, slug, int(baseline)):
        raise ApplicationError(
            f"Suite run #{baseline} is not a test suite of the policy “{slug}”; give the id of "
            "one of its suites, or “previous”."
        )
    rule = rule or AlertRule(tenant=tenant)
    for key, value in {**fields, "params": params}.items():
        setattr(rule, key, value)
    rule.full_clean()
    rule.save()
    return rule


def _is_suite_of(tenant, slug: str, run_id: int) -> bool:
    runs = scoped(TestRun, tenant).filter(pk=run_id, kind=TestRun.Kind.SUITE, policy__slug=slug)
    return runs.exists()


@transaction.atomic
def alert_rule_delete(*, rule: AlertRule) -> None:
    """Delete a rule and its history."""
    rule.delete()
