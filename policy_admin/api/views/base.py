"""The shape every rule viewset shares: input serializer in, one service call, output out."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from policy_admin.api.common import (
    IF_MATCH_PARAMETER,
    PolicyChildMixin,
    RevisionInputSerializer,
    request_revision,
)


def rule_schema(input_serializer, output_serializer):
    """OpenAPI for a rule viewset: its input on writes, the If-Match header, the output."""
    write = {
        "request": input_serializer,
        "responses": output_serializer,
        "parameters": [IF_MATCH_PARAMETER],
    }
    return extend_schema_view(
        create=extend_schema(**{**write, "responses": {201: output_serializer}}),
        update=extend_schema(**write),
        partial_update=extend_schema(**write),
        destroy=extend_schema(request=RevisionInputSerializer, parameters=[IF_MATCH_PARAMETER]),
    )


class RuleViewSet(PolicyChildMixin, viewsets.ModelViewSet):
    """CRUD of one rule kind of a policy's draft; subclasses name the services to call."""

    input_serializer_class = None
    lookup_value_regex = r"\d+"

    def save_rule(self, rule, fields: dict, revision: int):
        """Call the kind's save service; `rule` is None on create."""
        raise NotImplementedError

    def delete_rule(self, rule, revision: int) -> None:
        """Call the kind's delete service."""
        raise NotImplementedError

    def read_input(self, serializer_class, *, partial: bool = False) -> tuple[dict, int]:
        context = self.get_serializer_context()
        data = serializer_class(data=self.request.data, partial=partial, context=context)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        revision = request_revision(self.request, fields)
        fields.pop("revision", None)
        return fields, revision

    def create(self, request, *args, **kwargs):
        fields, revision = self.read_input(self.input_serializer_class)
        rule = self.save_rule(None, fields, revision)
        return Response(self.get_serializer(rule).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        rule = self.get_object()
        fields, revision = self.read_input(self.input_serializer_class, partial=partial)
        rule = self.save_rule(rule, fields, revision)
        return Response(self.get_serializer(rule).data)

    def destroy(self, request, *args, **kwargs):
        rule = self.get_object()
        _fields, revision = self.read_input(RevisionInputSerializer)
        self.delete_rule(rule, revision)
        return Response(status=status.HTTP_204_NO_CONTENT)
