"""Roles and the rights they grant: the one place that decides who may do what."""

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    """A member's role in a tenant, from least to most rights."""

    VIEWER = "viewer", "Viewer"
    REVIEWER = "reviewer", "Reviewer"
    EDITOR = "editor", "Editor"
    ADMIN = "admin", "Admin"


class Right(StrEnum):
    """Something a member may be allowed to do inside a tenant."""

    READ = "read"
    EDIT = "edit"
    MANAGE_MEMBERS = "manage_members"
    PUBLISH = "publish"
    MANAGE_TOKENS = "manage_tokens"
    MANAGE_PUBLISHING = "manage_publishing"
    REVIEW = "review"


_RANK = {Role.VIEWER: 0, Role.REVIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}
_MINIMUM_ROLE = {
    Right.READ: Role.VIEWER,
    Right.EDIT: Role.EDITOR,
    Right.MANAGE_MEMBERS: Role.ADMIN,
    Right.PUBLISH: Role.EDITOR,
    Right.MANAGE_TOKENS: Role.ADMIN,
    Right.MANAGE_PUBLISHING: Role.ADMIN,
    Right.REVIEW: Role.REVIEWER,
}

_REFUSAL = {
    Right.READ: "You are not a member of this tenant.",
    Right.EDIT: "Your role is {role}: only editors and admins can change this tenant's policies.",
    Right.MANAGE_MEMBERS: "Your role is {role}: only the tenant's admins can manage its members.",
    Right.PUBLISH: "Your role is {role}: only editors and admins can publish and move channels.",
    Right.MANAGE_TOKENS: "Your role is {role}: only the tenant's admins can manage fleet tokens.",
    Right.MANAGE_PUBLISHING: (
        "Your role is {role}: only the tenant's admins can change its publishing settings."
    ),
    Right.REVIEW: (
        "Your role is {role}: only reviewers, editors and admins can label review queues. "
        "Ask an admin of this tenant to make you a reviewer."
    ),
}


def role_has_right(role: str, right: Right) -> bool:
    """True when `role` grants `right`."""
    return _RANK[Role(role)] >= _RANK[_MINIMUM_ROLE[right]]


def member_has_right(membership, right: Right) -> bool:
    """True when the member's role grants `right`; staff serving the tenant may always review."""
    if right == Right.REVIEW and membership.user.is_staff:
        return True
    return role_has_right(membership.role, right)


def refusal_message(role: str, right: Right) -> str:
    """The sentence shown to a member whose role lacks `right`."""
    return _REFUSAL[right].format(role=Role(role).label.lower())
