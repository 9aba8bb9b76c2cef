"""Delivering alert events; they run on the `default` queue like every task outside gpu.*."""

from celery import shared_task

from moderation.services.alerts import alert_event_deliver


@shared_task(name="moderation.tasks.alerts.alert_deliver", ignore_result=True)
def alert_deliver(event_id: int) -> None:
    """Send one alert event by email and webhook; each attempt's outcome is kept on the event."""
    alert_event_deliver(event_id=event_id)
