from django.apps import AppConfig


class PolicyAdminConfig(AppConfig):
    name = "policy_admin"
    verbose_name = "Policy authoring"

    def ready(self) -> None:
        # A broken category catalogue stops the process at start-up, with the
        # path of the bad field, rather than failing the first page that needs it.
        from moderation.engine.catalogue import load_catalogue

        load_catalogue()
