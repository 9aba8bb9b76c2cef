from django.apps import AppConfig


class PolicyAdminConfig(AppConfig):
    name = "policy_admin"
    verbose_name = "Policy authoring"
