"""Sending an alert event by email and by signed webhook; failures are recorded, never raised."""

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail

WEBHOOK_TIMEOUT_SECONDS = 5


def payload(event) -> dict:
    """What the webhook receives: the rule, the new state and the message."""
    rule = event.rule
    return {
        "tenant": rule.tenant.slug,
        "rule": {"id": rule.pk, "name": rule.name, "kind": rule.kind},
        "state": event.state,
        "message": event.message,
        "at": event.created_at.isoformat(),
        "event_id": event.pk,
    }


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC>` of the body, which the receiver recomputes with the rule's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(event) -> list[dict]:
    """Send the event to the rule's email recipients and webhook; one record per attempt."""
    rule = event.rule
    results = []
    if rule.recipients():
        results.append(_email(event, rule.recipients()))
    if rule.webhook_url:
        results.append(_webhook(event, rule.webhook_url, rule.webhook_secret))
    return results


def _email(event, recipients: list[str]) -> dict:
    subject = f"[{event.rule.tenant.name}] {event.rule.name}: {event.get_state_display()}"
    try:
        send_mail(subject, event.message, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception as error:  # any mail failure is recorded on the event
        return {"channel": "email", "to": recipients, "ok": False, "error": str(error)}
    return {"channel": "email", "to": recipients, "ok": True}


def _webhook(event, url: str, secret: str) -> dict:
    body = json.dumps(payload(event), sort_keys=True).encode()
    request = urllib.request.Request(  # noqa: S310  the URL is an http(s) URLField
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Signature": signature(secret, body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            return {"channel": "webhook", "url": url, "ok": True, "status": response.status}
    except (urllib.error.URLError, OSError) as error:
        return {"channel": "webhook", "url": url, "ok": False, "error": str(error)}
