"""Every model has an admin page, and the ones services guard are read-only there."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.tenants.factories import UserFactory


def test_every_project_model_is_registered():
    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label in ("tenants", "policy_admin", "moderation")
    ]
    missing = [m._meta.label for m in models if m not in admin.site._registry]
    assert missing == []


@pytest.mark.django_db
def test_policies_cannot_be_changed_through_the_admin(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:policy_admin_policy_changelist")).status_code == 200
    assert client.get(reverse("admin:policy_admin_policy_add")).status_code == 403
