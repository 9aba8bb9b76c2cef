"""Moving a rule between ok and firing: one event and one delivery per change, none per poll."""

from django.db import transaction
from django.utils import timezone

from moderation.alerts import delivery
from moderation.alerts.models import AlertEvent, AlertRule


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
