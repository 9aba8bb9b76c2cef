"""Keyword set pages: create, options, import (paste, TXT, CSV), search, delete, roles, tenants."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from policy_admin.models import KeywordRuleSet
from tests.policy_admin.factories import KeywordRuleSetFactory, PolicyFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, policy, **kwargs):
    return reverse(name, kwargs={"tenant": policy.tenant.slug, "slug": policy.slug, **kwargs})


def text(response) -> str:
    return html.unescape(response.content.decode())


def options(**extra):
    data = {"name": "Slurs", "action": "block", "mode": "whole_word", "casefold": "on"}
    return {**data, "revision": 1, **extra}


def test_editor_creates_a_set_with_pasted_terms(client, policy, editor):
    client.force_login(editor)
    response = client.post(
        url("keyword-set-create", policy), options(terms="alpha\nAlpha\n\nbeta\n")
    )
    keyword_set = KeywordRuleSet.objects.get(policy=policy)
    assert response.url == url("keyword-set", policy, pk=keyword_set.pk)
    assert keyword_set.term_list() == ["alpha", "beta"]
    page = text(client.get(response.url))
    assert "Created keyword set Slurs with 2 terms, 1 duplicates removed, 1 lines refused." in page


def test_missing_name_is_an_error_next_to_the_field(client, policy, editor):
    client.force_login(editor)
    response = client.post(url("keyword-set-create", policy), options(name="", terms="x"))
    assert response.status_code == 400
    assert 'data-testid="error-name">This field is required.' in text(response)
    assert "x</textarea>" in text(response)


def test_duplicate_set_name_is_refused_next_to_name(client, policy, keyword_set, editor):
    client.force_login(editor)
    response = client.post(url("keyword-set-create", policy), options(name="Gore"))
    assert response.status_code == 400
    assert "This policy already has a keyword set with this name." in text(response)


def test_control_characters_in_the_allow_list_are_refused(client, policy, editor):
    client.force_login(editor)
    response = client.post(url("keyword-set-create", policy), options(allow_list="ok\nbad\x07"))
    assert response.status_code == 400
    assert 'data-testid="error-allow_list">Allow-list entry 2 contains a control' in text(response)


def test_options_save_and_stale_save(client, policy, keyword_set, editor, admin):
    client.force_login(editor)
    page = url("keyword-set", policy, pk=keyword_set.pk)
    assert client.post(page, options(name="Gore 2", mode="substring")).status_code == 302
    keyword_set.refresh_from_db()
    assert (keyword_set.name, keyword_set.mode) == ("Gore 2", "substring")
    response = client.post(page, options(name="Mine", revision=1))
    assert response.status_code == 409
    body = text(response)
    assert "acme-editor updated keyword rule set “Gore 2”" in body
    assert 'value="Mine"' in body


def test_import_txt_file_reports_added_duplicates_and_refused_lines(
    client, policy, keyword_set, editor
):
    client.force_login(editor)
    upload = SimpleUploadedFile("terms.txt", b"gore\nsplatter\n   \nbad\x01term\nsplatter\n")
    response = client.post(
        url("keyword-import", policy, pk=keyword_set.pk), {"file": upload, "revision": 1}
    )
    assert response.status_code == 200
    body = text(response)
    assert "Imported from terms.txt:" in body
    assert "3 terms in the set now · 2 duplicates removed · 2 lines refused." in body
    assert "Line 3: whitespace only" in body
    assert "Line 4: control character" in body
    keyword_set.refresh_from_db()
    assert keyword_set.term_list() == ["gore", "beheading", "splatter"]


def test_import_csv_column_replacing_the_terms(client, policy, keyword_set, editor):
    client.force_login(editor)
    upload = SimpleUploadedFile("list.csv", b"id,term\n1,knife\n2,blade\n")
    response = client.post(
        url("keyword-import", policy, pk=keyword_set.pk),
        {"file": upload, "column": "term", "replace": "1", "revision": 1},
    )
    assert response.status_code == 200
    keyword_set.refresh_from_db()
    assert keyword_set.term_list() == ["knife", "blade"]


def test_import_unknown_csv_column_is_an_error_next_to_the_file(
    client, policy, keyword_set, editor
):
    client.force_login(editor)
    upload = SimpleUploadedFile("list.csv", b"id,term\n1,knife\n")
    response = client.post(
        url("keyword-import", policy, pk=keyword_set.pk),
        {"file": upload, "column": "word", "revision": 1},
    )
    assert response.status_code == 400
    assert "data-testid=\"error-file\">list.csv has no column named 'word'" in text(response)


def test_import_needs_text_or_file(client, policy, keyword_set, editor):
    client.force_login(editor)
    response = client.post(url("keyword-import", policy, pk=keyword_set.pk), {"revision": 1})
    assert response.status_code == 400
    assert 'data-testid="error-text">Paste terms or choose a file' in text(response)


def test_stale_import_keeps_the_pasted_text(client, policy, keyword_set, editor):
    client.force_login(editor)
    client.post(url("keyword-set", policy, pk=keyword_set.pk), options(name="Renamed"))
    response = client.post(
        url("keyword-import", policy, pk=keyword_set.pk), {"text": "newterm", "revision": 1}
    )
    assert response.status_code == 409
    assert "newterm</textarea>" in text(response)
    assert "it is now 2" in text(response)


def test_search_inside_a_set_as_you_type(client, policy, keyword_set, viewer):
    client.force_login(viewer)
    response = client.get(url("keyword-search", policy, pk=keyword_set.pk), {"q": "HEAD"}, **HTMX)
    body = text(response)
    assert "1 term contains “HEAD”" in body
    assert "<li>beheading</li>" in body
    assert "<li>gore</li>" not in body


def test_viewer_reads_the_set_but_cannot_change_it(client, policy, keyword_set, viewer):
    client.force_login(viewer)
    page = text(client.get(url("keyword-set", policy, pk=keyword_set.pk)))
    assert "beheading" in page
    assert "Import terms" not in page
    for name in ("keyword-set", "keyword-import", "keyword-set-delete"):
        target = url(name, policy, pk=keyword_set.pk)
        assert client.post(target, {"text": "x", "revision": 1}).status_code == 403, name
    assert client.post(url("keyword-set-create", policy), options()).status_code == 403


def test_delete_asks_first(client, policy, keyword_set, editor):
    client.force_login(editor)
    target = url("keyword-set-delete", policy, pk=keyword_set.pk)
    assert "Delete the keyword set “Gore” (2 terms)?" in text(client.get(target))
    assert client.post(target, {"revision": 1}).status_code == 302
    assert not KeywordRuleSet.objects.exists()


def test_a_stale_delete_is_refused_and_links_the_latest_draft(client, policy, keyword_set, editor):
    client.force_login(editor)
    target = url("keyword-set-delete", policy, pk=keyword_set.pk)
    assert 'name="revision" value="1"' in text(client.get(target))
    response = client.post(target, {"revision": 0})
    assert response.status_code == 409
    assert f'<a href="{target}">Reload the latest draft</a>' in text(response)
    assert KeywordRuleSet.objects.exists()


def test_other_tenants_set_is_404_through_own_tenant(client, policy, other_tenant, editor):
    foreign = KeywordRuleSetFactory(policy=PolicyFactory(tenant=other_tenant))
    client.force_login(editor)
    for name in ("keyword-set", "keyword-search", "keyword-set-delete"):
        assert client.get(url(name, policy, pk=foreign.pk), **HTMX).status_code == 404, name
    for name in ("keyword-set", "keyword-import", "keyword-set-delete"):
        target = url(name, policy, pk=foreign.pk)
        assert client.post(target, {"text": "x", "revision": 1}).status_code == 404, name


def test_outsider_and_anonymous(client, policy, keyword_set, outsider):
    target = url("keyword-set", policy, pk=keyword_set.pk)
    assert client.get(target).status_code == 302
    client.force_login(outsider)
    assert client.get(target).status_code == 404
    assert client.post(url("keyword-import", policy, pk=keyword_set.pk)).status_code == 404
