"""OpenAPI schema and documentation pages."""

import pytest
import yaml
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_schema_documents_the_tenant_endpoints(client, editor):
    client.force_login(editor)
    response = client.get(reverse("api-schema"))
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert "/api/v1/tenants/{tenant}/members/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/tenants/{tenant}/members/"]
    assert "put" in schema["paths"]["/api/v1/tenants/{tenant}/publishing-settings/"]


def test_docs_use_vendored_assets_only(client, editor):
    client.force_login(editor)
    body = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in body
    assert "cdn." not in body
    assert "/static/drf_spectacular_sidecar/" in body
