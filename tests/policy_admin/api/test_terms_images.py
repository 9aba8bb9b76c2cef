"""API: bulk term upload and paged terms; concept image upload, toggle and removal."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kernel.uploads import ImageUpload
from policy_admin.models import ConceptImage
from policy_admin.services import concepts
from tests.images import png_bytes
from tests.policy_admin.factories import (
    ClipConceptFactory,
    KeywordRuleSetFactory,
    PolicyFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def api_url(name, **kwargs):
    """An API address under the default policy of acme."""
    return reverse(name, kwargs={"tenant": "acme", "policy": "default", **kwargs})


def png(name: str, color) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(color), content_type="image/png")


def test_terms_upload_as_json_adds_and_reports(api_client, keyword_set, editor):
    api_client.force_authenticate(editor)
    body = {"terms": ["Gore", "blood", "", "x" * 300, "guts"], "revision": 1}
    response = api_client.post(
        api_url("policy-keyword-set-terms", pk=keyword_set.pk), body, format="json"
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["added"], data["duplicates"], data["refused"], data["term_count"]) == (2, 1, 2, 4)
    assert [p["line"] for p in data["problems"]] == [3, 4]
    assert data["duplicate_terms"] == [{"line": 1, "term": "Gore", "kept": "gore"}]
    assert data["revision"] == 2


def test_terms_upload_csv_column_with_replace(api_client, keyword_set, editor):
    api_client.force_authenticate(editor)
    csv = SimpleUploadedFile("terms.csv", b"id,term\n1,alpha\n2,beta\n3,\n")
    body = {"file": csv, "column": "term", "replace": "true", "revision": 1}
    data = api_client.post(api_url("policy-keyword-set-terms", pk=keyword_set.pk), body).json()
    assert data["term_count"] == 2
    assert data["problems"] == [{"line": 4, "term": "", "reason": "empty term"}]
    keyword_set.refresh_from_db()
    assert keyword_set.term_list() == ["alpha", "beta"]


def test_terms_upload_with_unknown_csv_column_is_400(api_client, keyword_set, editor):
    api_client.force_authenticate(editor)
    body = {"file": SimpleUploadedFile("t.csv", b"a,b\n1,2\n"), "column": "term", "revision": 1}
    response = api_client.post(api_url("policy-keyword-set-terms", pk=keyword_set.pk), body)
    assert response.status_code == 400
    assert "no column named 'term'" in response.json()["message"]


def test_viewer_cannot_upload_terms_but_reads_them(api_client, keyword_set, viewer):
    api_client.force_authenticate(viewer)
    url = api_url("policy-keyword-set-terms", pk=keyword_set.pk)
    assert api_client.post(url, {"terms": ["x"], "revision": 1}, format="json").status_code == 403
    assert api_client.get(url).json()["results"] == ["gore", "beheading"]


def test_terms_are_paged_and_searchable(api_client, policy, editor):
    terms = "\n".join(f"word{n:03}" for n in range(450))
    keyword_set = KeywordRuleSetFactory(policy=policy, terms=terms, term_count=450)
    api_client.force_authenticate(editor)
    url = api_url("policy-keyword-set-terms", pk=keyword_set.pk)
    first = api_client.get(url).json()
    assert (first["count"], len(first["results"])) == (450, 200)
    third = api_client.get(url, {"page": 3}).json()
    assert third["results"][-1] == "word449"
    found = api_client.get(url, {"search": "WORD04"}).json()
    assert found["count"] == 10


def test_terms_of_another_tenants_set_are_404(api_client, policy, editor, other_tenant):
    theirs = KeywordRuleSetFactory(policy=PolicyFactory(tenant=other_tenant, slug="default"))
    api_client.force_authenticate(editor)
    url = api_url("policy-keyword-set-terms", pk=theirs.pk)
    assert api_client.get(url).status_code == 404
    assert api_client.post(url, {"terms": ["x"], "revision": 1}, format="json").status_code == 404


def test_images_upload_several_at_once(api_client, policy, editor):
    concept = ClipConceptFactory(policy=policy)
    api_client.force_authenticate(editor)
    files = [png("a.png", (255, 0, 0)), png("b.png", (0, 255, 0)), png("c.png", (0, 0, 255))]
    response = api_client.post(
        api_url("policy-concept-images", pk=concept.pk), {"images": files, "revision": 1}
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert [i["original_name"] for i in data["images"]] == ["a.png", "b.png", "c.png"]
    assert all(i["positive"] for i in data["images"])
    assert data["revision"] == 2


def test_negative_images_and_a_bad_file_saves_none(api_client, policy, editor):
    concept = ClipConceptFactory(policy=policy)
    api_client.force_authenticate(editor)
    bad = SimpleUploadedFile("notes.png", b"not an image at all")
    body = {"images": [png("a.png", (1, 2, 3)), bad], "positive": "false", "revision": 1}
    response = api_client.post(api_url("policy-concept-images", pk=concept.pk), body)
    assert response.status_code == 400
    assert "notes.png" in str(response.json())
    assert not ConceptImage.objects.exists()
    body = {"images": [png("a.png", (1, 2, 3))], "positive": "false", "revision": 1}
    added = api_client.post(api_url("policy-concept-images", pk=concept.pk), body).json()
    assert added["images"][0]["positive"] is False


def _image(concept, editor, color=(9, 9, 9)):
    return concepts.concept_images_add(
        concept=concept,
        actor=editor,
        revision=concept.policy.revision,
        uploads=[ImageUpload("x.png", png_bytes(color))],
    )[0]


def test_image_toggle_and_remove(api_client, policy, editor):
    concept = ClipConceptFactory(policy=policy)
    image = _image(concept, editor)
    api_client.force_authenticate(editor)
    url = api_url("policy-concept-image", pk=concept.pk, image_id=image.pk)
    toggled = api_client.patch(url, {"positive": False, "revision": 2}, format="json")
    assert toggled.status_code == 200
    assert toggled.json()["positive"] is False
    assert api_client.delete(url, HTTP_IF_MATCH='"3"').status_code == 204
    assert not ConceptImage.objects.filter(pk=image.pk).exists()


def test_image_of_another_concept_or_tenant_is_404(api_client, policy, editor, other_tenant):
    mine = ClipConceptFactory(policy=policy)
    sibling = ClipConceptFactory(policy=policy)
    theirs = ClipConceptFactory(policy=PolicyFactory(tenant=other_tenant, slug="default"))
    sibling_image = _image(sibling, editor)
    their_image = _image(theirs, editor, color=(1, 1, 1))
    api_client.force_authenticate(editor)
    for image in (sibling_image, their_image):
        url = api_url("policy-concept-image", pk=mine.pk, image_id=image.pk)
        assert api_client.patch(url, {"positive": False, "revision": 3}).status_code == 404
        assert api_client.delete(url, HTTP_IF_MATCH='"3"').status_code == 404
    assert ConceptImage.objects.count() == 2


def test_viewer_cannot_touch_images(api_client, policy, editor, viewer):
    concept = ClipConceptFactory(policy=policy)
    image = _image(concept, editor)
    api_client.force_authenticate(viewer)
    url = api_url("policy-concept-images", pk=concept.pk)
    assert (
        api_client.post(url, {"images": [png("a.png", (5, 5, 5))], "revision": 2}).status_code
        == 403
    )
    image_url = api_url("policy-concept-image", pk=concept.pk, image_id=image.pk)
    assert api_client.delete(image_url, HTTP_IF_MATCH='"2"').status_code == 403
    detail = api_client.get(api_url("policy-concept-detail", pk=concept.pk)).json()
    assert [i["sha256"] for i in detail["images"]] == [image.sha256]


def test_concept_list_with_images_has_a_fixed_query_count(api_client, policy, editor):
    api_client.force_authenticate(editor)
    _image(ClipConceptFactory(policy=policy), editor)
    with CaptureQueriesContext(connection) as few:
        api_client.get(api_url("policy-concept-list"))
    for n in range(3):
        policy.refresh_from_db()
        _image(ClipConceptFactory(policy=policy), editor, color=(n, 50, 50))
    with CaptureQueriesContext(connection) as many:
        assert api_client.get(api_url("policy-concept-list")).json()["count"] == 4
    assert len(many) == len(few)
