"""Policy as code through the pages, the API and manage.py: rights, 404s, problems, success."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse_lazy

from policy_admin.models import CategoryThreshold, Policy
from tests.policy_admin.factories import CategoryThresholdFactory

pytestmark = pytest.mark.django_db

DEFAULT = {"tenant": "acme", "slug": "default"}
DEFAULT_API = {"tenant": "acme", "policy": "default"}
PAGE = reverse_lazy("policy-editor", kwargs=DEFAULT)
EXPORT_PAGE = reverse_lazy("policy-export", kwargs=DEFAULT)
IMPORT_PAGE = reverse_lazy("policy-import", kwargs=DEFAULT)
EXPORT_API = reverse_lazy("api-policy-export", kwargs=DEFAULT_API)
IMPORT_API = reverse_lazy("api-policy-import-yaml", kwargs=DEFAULT_API)
GOOD = """version: 1
policy: {name: Default}
rules:
  thresholds:
    - {category: gore, review_at: 0.2, block_at: 0.4}
"""
BAD = """version: 1
policy: {name: Default}
rules:
  thresholds:
    - {category: gore, review_at: 0.9, block_at: 0.4, colour: red}
"""


@pytest.fixture(autouse=True)
def violence(policy):
    """The draft's one rule: exports show it, refused imports keep it, good ones replace it."""
    return CategoryThresholdFactory(policy=policy, category="violence")


def test_export_download_for_members_404_for_outsiders(client, policy, viewer, outsider):
    client.force_login(viewer)
    response = client.get(EXPORT_PAGE)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="default.yaml"'
    assert b"category: violence" in response.content
    client.force_login(outsider)
    assert client.get(EXPORT_PAGE).status_code == 404
    assert client.get(IMPORT_PAGE).status_code == 404


def test_viewer_cannot_import_page(client, policy, viewer):
    client.force_login(viewer)
    assert client.get(IMPORT_PAGE).status_code == 403
    assert client.post(IMPORT_PAGE, {"yaml_text": GOOD, "revision": 1}).status_code == 403


def test_import_page_lists_every_problem_and_keeps_the_draft(client, policy, editor):
    client.force_login(editor)
    response = client.post(IMPORT_PAGE, {"yaml_text": BAD, "revision": 1})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<code>rules.thresholds[0].colour</code>: unknown field" in body
    assert "<code>rules.thresholds[0]</code>: review at 0.9 is above block at 0.4" in body
    assert BAD.splitlines()[-1].strip() in body.replace("&#x27;", "'")  # the input is kept
    policy.refresh_from_db()
    assert policy.revision == 1


def test_import_page_success_redirects_with_a_message(client, policy, editor):
    client.force_login(editor)
    upload = SimpleUploadedFile("default.yaml", GOOD.encode())
    response = client.post(IMPORT_PAGE, {"yaml_file": upload, "revision": 1})
    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert [t.category for t in CategoryThreshold.objects.filter(policy=policy)] == ["gore"]


def test_import_page_stale_revision_says_so(client, policy, editor):
    client.force_login(editor)
    policy.revision = 5
    policy.save()
    response = client.post(IMPORT_PAGE, {"yaml_text": GOOD, "revision": 1})
    assert "changed after you opened it" in response.content.decode()


def test_api_export_is_yaml(api_client, policy, viewer, outsider):
    api_client.force_authenticate(viewer)
    response = api_client.get(EXPORT_API)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/yaml")
    assert b"version: 1" in response.content
    api_client.force_authenticate(outsider)
    assert api_client.get(EXPORT_API).status_code == 404


def test_api_import_raw_body_multipart_and_problems(api_client, policy, editor, viewer):
    api_client.force_authenticate(viewer)
    assert api_client.post(IMPORT_API, {"text": GOOD, "revision": 1}).status_code == 403
    api_client.force_authenticate(editor)
    refused = api_client.post(IMPORT_API, {"text": BAD, "revision": 1}, format="json")
    assert refused.status_code == 400
    paths = [p["path"] for p in refused.json()["extra"]["problems"]]
    assert paths == ["rules.thresholds[0].colour", "rules.thresholds[0]"]
    raw = api_client.post(IMPORT_API, GOOD, content_type="application/yaml", HTTP_IF_MATCH='"1"')
    assert raw.status_code == 200, raw.json()
    assert raw.json()["revision"] == 2
    upload = SimpleUploadedFile("p.yaml", GOOD.encode())
    stale = api_client.post(IMPORT_API, {"yaml": upload, "revision": 1})
    assert stale.status_code == 409
    assert stale.json()["extra"]["current_revision"] == 2


def test_command_export_and_import_round_trip(tmp_path, policy, editor, tenant):
    target = tmp_path / "default.yaml"
    call_command("policy_export", "acme", "default", "-o", str(target))
    call_command(
        "policy_import", "acme", "copy", str(target), "--create", "--user", editor.username
    )
    copy = Policy.objects.get(tenant=tenant, slug="copy")
    call_command("policy_export", "acme", "copy", "-o", str(tmp_path / "copy.yaml"))
    assert (tmp_path / "copy.yaml").read_text() == target.read_text()
    assert copy.name == "Default"


def test_command_refuses_viewers_and_lists_problems(tmp_path, policy, viewer, editor, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    with pytest.raises(CommandError, match="imports need an editor"):
        call_command("policy_import", "acme", "default", str(bad), "--user", viewer.username)
    with pytest.raises(CommandError, match="2 problems"):
        call_command("policy_import", "acme", "default", str(bad), "--user", editor.username)
    assert "rules.thresholds[0].colour: unknown field" in capsys.readouterr().err
