"""What every authoring endpoint shares: the policy from the URL, and the draft revision."""

import re

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from policy_admin.models import Policy
from policy_admin.selectors import policies as selectors
from tenants.scoping import TenantAPIMixin

POLICY_PARAMETER = OpenApiParameter(
    "policy", OpenApiTypes.STR, OpenApiParameter.PATH, description="The policy's slug."
)
TENANT_PARAMETER = OpenApiParameter(
    "tenant", OpenApiTypes.STR, OpenApiParameter.PATH, description="The tenant's slug."
)
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='The draft revision the change starts from, as "<revision>"; '
    "the same as the `revision` field of the body.",
)
_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')
REVISION_HELP = (
    "The revision of the policy draft this change starts from (or send If-Match). "
    "A stale revision is refused with 409."
)


class RevisionField(serializers.IntegerField):
    """The draft revision a write starts from; optional here when If-Match carries it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", REVISION_HELP)
        super().__init__(**kwargs)


def request_revision(request, data: dict | None = None) -> int:
    """The revision from the validated body, else from If-Match; a 400 naming it when absent."""
    if data and data.get("revision") is not None:
        return data["revision"]
    match = _IF_MATCH.match(request.headers.get("If-Match", ""))
    if match:
        return int(match.group(1))
    raise ValidationError(
        {
            "revision": [
                "Send the revision of the draft your change starts from, in the `revision` "
                'field or as the header If-Match: "<revision>" (every response shows it).'
            ]
        }
    )


class PolicyChildMixin(TenantAPIMixin):
    """For endpoints under /policies/<policy>/: the policy is found through the tenant scope.

    Another tenant's policy, and a rule of another policy, are both 404s: the
    policy comes from the user's tenant, and the rows are filtered by it.
    """

    policy_url_kwarg = "policy"
    policy: Policy

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:
            self.policy = selectors.policy_get(tenant=self.tenant, slug=kwargs["policy"])
        except Policy.DoesNotExist:
            raise Http404("No such policy.") from None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model._default_manager.none()
        return super().get_queryset().filter(policy=self.policy)

    def get_object(self):
        rule = super().get_object()
        rule.policy = self.policy  # services bump this instance's revision in place
        return rule

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["policy"] = getattr(self, "policy", None)
        return context


@extend_schema_field(OpenApiTypes.INT)
class PolicyRevisionField(serializers.Field):
    """The policy draft's revision after this response: send it back with the next change."""

    def __init__(self, **kwargs):
        kwargs.update(read_only=True, source="*")
        kwargs.setdefault(
            "help_text", "The policy draft's current revision; send it with your next change."
        )
        super().__init__(**kwargs)

    def to_representation(self, value):
        policy = self.context.get("policy")
        return policy.revision if policy is not None else None


class FormBooleanField(serializers.BooleanField):
    """A boolean whose default also holds in multipart forms, where DRF reads absent as False."""

    default_empty_html = serializers.empty


class RevisionInputSerializer(serializers.Serializer):
    """The body of a delete: only the revision (or send If-Match)."""

    revision = RevisionField()
