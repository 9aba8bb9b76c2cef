"""OpenAPI schema and documentation pages."""

import openapi_spec_validator
import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from jsonschema import Draft4Validator

pytestmark = pytest.mark.django_db


def test_schema_documents_the_tenant_endpoints(client, editor):
    client.force_login(editor)
    response = client.get(reverse("api-schema"))
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    # OpenAPI path templates, spelled out: they are what the published schema promises clients.
    assert "/api/v1/tenants/{tenant}/members/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/tenants/{tenant}/members/"]
    assert "put" in schema["paths"]["/api/v1/tenants/{tenant}/publishing-settings/"]


def test_docs_use_vendored_assets_only(client, editor):
    client.force_login(editor)
    body = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in body
    assert "cdn." not in body
    assert "/static/drf_spectacular_sidecar/" in body


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    """The OpenAPI document as `spectacular --validate --fail-on-warn` writes it."""
    path = tmp_path_factory.mktemp("openapi") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def _defaults(node, where="#"):
    """Every (location, schema) in the document whose schema documents a default."""
    if isinstance(node, dict):
        if "default" in node and isinstance(node.get("type"), str):
            yield where, node
        for key, value in node.items():
            yield from _defaults(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _defaults(value, f"{where}/{index}")


def test_every_documented_default_is_valid_against_its_own_schema(schema):
    invalid = []
    for where, node in _defaults(schema):
        if node["default"] is None and node.get("nullable"):
            continue
        subschema = {k: v for k, v in node.items() if k not in ("nullable", "readOnly")}
        checker = Draft4Validator(subschema, format_checker=Draft4Validator.FORMAT_CHECKER)
        invalid += [f"{where}: {error.message}" for error in checker.iter_errors(node["default"])]
    assert not invalid, "\n".join(invalid)


def test_schema_is_valid_under_openapi_spec_validator(schema):
    openapi_spec_validator.validate(schema)
