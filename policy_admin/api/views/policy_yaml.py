"""Policy as code over the API: export a policy's draft as YAML, import YAML into it."""

import yaml
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from policy_admin.api.common import IF_MATCH_PARAMETER, request_revision
from policy_admin.api.serializers.policy_yaml import (
    ImportRefusedSerializer,
    PolicyImportResultSerializer,
    PolicyImportSerializer,
)
from policy_admin.policy_yaml.document import MAX_YAML_BYTES
from policy_admin.services import policy_yaml


class YamlParser(BaseParser):
    """A raw YAML body, read as text (at most the YAML size limit); parsed by the service."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read(MAX_YAML_BYTES + 1) if stream else b""
        if len(data) > MAX_YAML_BYTES:
            raise ParseError(f"The YAML is larger than {MAX_YAML_BYTES // 2**20} MB.")
        try:
            return {"text": data.decode("utf-8-sig")}
        except UnicodeDecodeError as error:
            raise ParseError(f"The YAML is not UTF-8 (byte {error.start}).") from None


class TextYamlParser(YamlParser):
    media_type = "text/yaml"


class YamlRenderer(renderers.BaseRenderer):
    """Policy YAML as is; an error (a mapping) rendered as YAML too."""

    media_type = "text/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode("utf-8")
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


class PolicyYamlActionsMixin:
    """`export/` and `import/` on a policy (the viewset looks the policy up by slug)."""

    @extend_schema(
        responses={(200, "text/yaml"): OpenApiTypes.STR},
        description="The policy's draft as YAML (schema version 1); see docs/policy-as-code.md.",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="export",
        renderer_classes=[YamlRenderer, renderers.JSONRenderer],
    )
    def export(self, request, *args, **kwargs):
        policy = self.get_object()
        response = Response(policy_yaml.policy_export(policy), content_type="text/yaml")
        response["Content-Disposition"] = f'attachment; filename="{policy.slug}.yaml"'
        return response

    @extend_schema(
        request={
            "multipart/form-data": PolicyImportSerializer,
            "application/json": PolicyImportSerializer,
            "application/yaml": OpenApiTypes.STR,
        },
        responses={
            200: PolicyImportResultSerializer,
            400: OpenApiResponse(ImportRefusedSerializer, description="Every problem, by path."),
        },
        parameters=[
            IF_MATCH_PARAMETER,
            OpenApiParameter("revision", int, description="The revision, for a raw YAML body."),
        ],
        description="Replace the draft's rules with the YAML's, all or nothing; a stale "
        "revision is refused with 409. Images are matched by sha256 in the zip, or among "
        "this tenant's uploaded concept images.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser, JSONParser, YamlParser, TextYamlParser],
    )
    def import_yaml(self, request, *args, **kwargs):
        policy = self.get_object()
        data = PolicyImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        if "revision" not in fields and "revision" in request.query_params:
            fields["revision"] = (
                PolicyImportSerializer()
                .fields["revision"]
                .run_validation(request.query_params["revision"])
            )
        result = policy_yaml.policy_import(
            policy=policy,
            actor=request.user,
            revision=request_revision(request, fields),
            text=fields["yaml"].read() if "yaml" in fields else fields["text"],
            images_zip=fields["zip"].read() if "zip" in fields else None,
        )
        return Response(PolicyImportResultSerializer(result).data)
