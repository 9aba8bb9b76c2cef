"""Tenant pages: the picker, members and invitations, the API token, and signing in and out."""

from django.contrib.auth import views as auth_views
from django.urls import path

from tenants.views import invitations
from tenants.views import members as views

urlpatterns = [
    path("", views.TenantPickerView.as_view(), name="tenant-picker"),
    path("t/<slug:tenant>/members/", views.MemberListView.as_view(), name="tenant-members"),
    path(
        "t/<slug:tenant>/members/<int:pk>/role/", views.MemberRoleView.as_view(), name="member-role"
    ),
    path(
        "t/<slug:tenant>/members/<int:pk>/remove/",
        views.MemberRemoveView.as_view(),
        name="member-remove",
    ),
    path(
        "t/<slug:tenant>/members/invitations/<int:pk>/revoke/",
        invitations.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path(
        "invitations/<str:token>/",
        invitations.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path("account/api-token/", views.ApiTokenView.as_view(), name="api-token"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
