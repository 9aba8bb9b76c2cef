"""Invitations: how an existing account joins another tenant, only once its owner accepts."""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.models.tenancy import TenantOwned
from tenants.roles import Role


def token_hash(token: str) -> str:
    """The stored form of an invitation's secret: the link's token is never kept in clear."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(TenantOwned):
    """An admin's offer of a role to an existing account; a membership exists only once accepted.

    `username` is what the inviter typed, the only thing of the account shown
    before acceptance; `invitee` is the account it named, which alone may accept.
    """

    LIFETIME = dt.timedelta(days=7)

    class Status(models.TextChoices):
        """Where an invitation stands; derived from its timestamps, never stored."""

        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    username = models.CharField(max_length=150)
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="invitation_not_both_accepted_and_revoked",
                violation_error_message="An invitation is either accepted or revoked, not both.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} to {self.tenant} as {self.role}"

    @property
    def status_now(self) -> "Invitation.Status":
        return self.status()

    def status(self, now: dt.datetime | None = None) -> "Invitation.Status":
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if (now or timezone.now()) >= self.expires_at:
            return self.Status.EXPIRED
        return self.Status.PENDING
