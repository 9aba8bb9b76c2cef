"""Roles: a reviewer sits between viewer and editor, labels queues and edits nothing."""

import pytest
from django.urls import reverse

from tenants.models import Membership
from tenants.roles import Right, Role, member_has_right, refusal_message, role_has_right
from tests.tenants.factories import MembershipFactory, UserFactory


@pytest.mark.parametrize(
    ("role", "can_review"),
    [(Role.VIEWER, False), (Role.REVIEWER, True), (Role.EDITOR, True), (Role.ADMIN, True)],
)
def test_review_needs_at_least_the_reviewer_role(role, can_review):
    assert role_has_right(role, Right.REVIEW) is can_review


@pytest.mark.parametrize(
    "right", [Right.EDIT, Right.PUBLISH, Right.MANAGE_MEMBERS, Right.MANAGE_TOKENS]
)
def test_reviewer_keeps_no_authoring_right(right):
    assert not role_has_right(Role.REVIEWER, right)
    assert role_has_right(Role.REVIEWER, Right.READ)


def test_refusal_says_who_may_review_and_what_to_do():
    message = refusal_message(Role.VIEWER, Right.REVIEW)
    assert message.startswith("Your role is viewer: only reviewers, editors and admins")
    assert "Ask an admin" in message


@pytest.mark.django_db
def test_staff_serving_a_tenant_may_review_even_as_viewer(tenant):
    staff = MembershipFactory(
        tenant=tenant, role=Role.VIEWER, user=UserFactory(username="solutions", is_staff=True)
    )
    plain = MembershipFactory(tenant=tenant, role=Role.VIEWER)
    assert member_has_right(staff, Right.REVIEW)
    assert not member_has_right(staff, Right.EDIT)
    assert not member_has_right(plain, Right.REVIEW)


@pytest.mark.django_db
def test_admin_makes_a_member_a_reviewer_on_the_members_page(client, tenant, admin, viewer):
    client.force_login(admin)
    page = client.get(reverse("tenant-members", kwargs={"tenant": "acme"})).content.decode()
    assert '<option value="reviewer"' in page
    membership = Membership.objects.get(user=viewer)
    url = reverse("member-role", kwargs={"tenant": "acme", "pk": membership.pk})
    client.post(url, {"role": "reviewer"}, headers={"HX-Request": "true"})
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER


@pytest.mark.django_db
def test_reviewer_cannot_edit_a_policy(client, tenant, reviewer, policy):
    client.force_login(reviewer)
    response = client.post(reverse("policy-list", kwargs={"tenant": "acme"}), {"name": "New"})
    assert response.status_code == 403
    assert "Your role is reviewer" in response.content.decode()
