"""What the live-test and suite APIs share: the published version a new run judges with."""

from rest_framework.exceptions import NotFound

from moderation.selectors import runs as selectors
from policy_admin.models import PolicyVersion


class RunVersionMixin:
    """`version(pk)`: the tenant's version `pk` for a run, None for the draft, else a 404."""

    def version(self, pk: int | None) -> PolicyVersion | None:
        try:
            return selectors.run_version_get(tenant=self.tenant, pk=pk)
        except PolicyVersion.DoesNotExist:
            raise NotFound(
                f"No published version #{pk} here; omit `version` for the draft."
            ) from None
