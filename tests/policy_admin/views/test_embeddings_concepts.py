"""Embedding set and concept pages: forms, validation, images, roles and tenants."""

import html
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kernel.uploads import ImageUpload
from policy_admin.models import ClipConcept, ConceptImage, EmbeddingRuleSet
from policy_admin.services import concepts
from tests.images import png_bytes
from tests.policy_admin.factories import (
    ClipConceptFactory,
    EmbeddingRuleSetFactory,
    PolicyFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def concept(policy):
    return ClipConceptFactory(policy=policy, name="Logo")


def url(name, policy, **kwargs):
    return reverse(name, kwargs={"tenant": policy.tenant.slug, "slug": policy.slug, **kwargs})


def text(response) -> str:
    return html.unescape(response.content.decode())


def phrases(**extra):
    data = {"name": "Violent", "action": "review", "threshold": "0.7"}
    return {**data, "examples": "a bloody fight\nsomeone hurt", "revision": 1, **extra}


def pngs(count, start=0):
    return [
        SimpleUploadedFile(f"img{n}.png", png_bytes((n * 40, 10, 10)), "image/png")
        for n in range(start, start + count)
    ]


def test_editor_creates_and_edits_an_embedding_set(client, policy, editor):
    client.force_login(editor)
    response = client.post(url("embedding-set-create", policy), phrases())
    assert response.status_code == 302
    embedding_set = EmbeddingRuleSet.objects.get(policy=policy)
    assert embedding_set.examples == ["a bloody fight", "someone hurt"]
    edit = url("embedding-set", policy, pk=embedding_set.pk)
    assert "a bloody fight\nsomeone hurt</textarea>" in text(client.get(edit))
    client.post(edit, phrases(revision=2, counter_examples="a boxing match"))
    embedding_set.refresh_from_db()
    assert embedding_set.counter_examples == ["a boxing match"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"examples": ""}, "examples", "This field is required."),
        ({"threshold": "2"}, "threshold", "less than or equal to 1"),
        ({"examples": "ok\nbad\x07"}, "examples", "Example 2 contains a control"),
    ],
)
def test_embedding_set_errors_are_next_to_the_field(client, policy, editor, data, field, message):
    client.force_login(editor)
    response = client.post(url("embedding-set-create", policy), phrases(**data))
    assert response.status_code == 400
    body = text(response)
    assert f'data-testid="error-{field}">' in body
    assert message in body
    assert 'value="Violent"' in body


def test_stale_embedding_save_names_the_change_and_keeps_input(client, policy, editor, admin):
    existing = EmbeddingRuleSetFactory(policy=policy, name="Weapons")
    client.force_login(admin)
    client.post(url("embedding-set", policy, pk=existing.pk), phrases(name="Arms"))
    client.force_login(editor)
    response = client.post(url("embedding-set-create", policy), phrases(name="Mine"))
    assert response.status_code == 409
    body = text(response)
    assert "acme-admin updated embedding rule set “Arms”" in body
    assert 'value="Mine"' in body


def test_concept_create_then_upload_three_images(client, policy, editor):
    client.force_login(editor)
    response = client.post(
        url("concept-create", policy),
        {
            "name": "Brand logo",
            "action": "block",
            "method": "prototype",
            "threshold": "0.5",
            "revision": 1,
        },
    )
    concept = ClipConcept.objects.get(policy=policy)
    assert response.url == url("concept", policy, pk=concept.pk)
    page = text(client.get(response.url))
    assert "needs at least 3 positive examples before it can be published" in page
    upload = client.post(
        url("concept-images", policy, pk=concept.pk),
        {"images": pngs(3), "positive": "1", "revision": 2},
    )
    assert upload.status_code == 302
    assert concept.images.filter(positive=True).count() == 3
    page = text(client.get(upload.url))
    assert "Added 3 positive example image(s)." in page
    assert "needs at least 3 positive" not in page


def test_concept_form_errors_are_next_to_the_field(client, policy, editor):
    client.force_login(editor)
    response = client.post(
        url("concept-create", policy),
        {"name": "", "action": "block", "method": "svm", "threshold": "0.5", "revision": 1},
    )
    assert response.status_code == 400
    body = text(response)
    assert 'data-testid="error-name">This field is required.' in body
    assert "Select a valid choice. svm is not one of the available choices." in body


def test_a_bad_file_refuses_the_upload_and_names_it(client, policy, concept, editor):
    client.force_login(editor)
    bad = SimpleUploadedFile("notes.png", b"not an image at all", "image/png")
    response = client.post(
        url("concept-images", policy, pk=concept.pk),
        {"images": [*pngs(2), bad], "positive": "1", "revision": 1},
    )
    assert response.status_code == 400
    assert 'data-testid="error-images">' in text(response)
    assert "notes.png" in text(response)
    assert not ConceptImage.objects.exists()


def test_upload_without_files_says_so(client, policy, concept, editor):
    client.force_login(editor)
    response = client.post(url("concept-images", policy, pk=concept.pk), {"revision": 1})
    assert response.status_code == 400
    assert "Choose at least one image to upload." in text(response)


def add_images(concept, editor, count=3):
    uploads = [ImageUpload(f"x{n}.png", png_bytes((n * 50, 0, 0))) for n in range(count)]
    return concepts.concept_images_add(
        concept=concept, actor=editor, revision=concept.policy.revision, uploads=uploads
    )


def test_toggle_and_remove_with_htmx_return_the_grid_and_the_revision(
    client, policy, concept, editor
):
    image = add_images(concept, editor)[0]
    client.force_login(editor)
    toggle = url("concept-image-positive", policy, pk=concept.pk, image_pk=image.pk)
    response = client.post(toggle, {"positive": "", "revision": 2}, **HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"revision-changed": {"revision": 3}}
    body = text(response)
    assert "2 positive · 1 negative" in body
    assert "it needs at least 3 positive examples before it can be published" in body
    remove = url("concept-image-remove", policy, pk=concept.pk, image_pk=image.pk)
    assert 'hx-confirm="Remove x0.png from Logo?"' in body
    response = client.post(remove, {"revision": 3}, **HTMX)
    assert "2 positive · 0 negative" in text(response)
    assert concept.images.count() == 2


def test_stale_toggle_is_409_and_changes_nothing(client, policy, concept, editor):
    image = add_images(concept, editor)[0]
    client.force_login(editor)
    toggle = url("concept-image-positive", policy, pk=concept.pk, image_pk=image.pk)
    response = client.post(toggle, {"positive": "", "revision": 1}, **HTMX)
    assert response.status_code == 409
    assert "it is now 2" in text(response)
    image.refresh_from_db()
    assert image.positive


def test_other_tenants_concept_and_image_ids_are_404(client, policy, concept, other_tenant, editor):
    foreign = ClipConceptFactory(policy=PolicyFactory(tenant=other_tenant))
    foreign_image = add_images(foreign, editor, count=1)[0]
    own_image = add_images(concept, editor, count=1)[0]
    client.force_login(editor)
    assert client.get(url("concept", policy, pk=foreign.pk)).status_code == 404
    for name in ("concept-image-positive", "concept-image-remove"):
        crossed = url(name, policy, pk=concept.pk, image_pk=foreign_image.pk)
        assert client.post(crossed, {"revision": 1}).status_code == 404
        other_concept = url(name, policy, pk=foreign.pk, image_pk=own_image.pk)
        assert client.post(other_concept, {"revision": 1}).status_code == 404
    assert ConceptImage.objects.count() == 2
    foreign_set = EmbeddingRuleSetFactory(policy=foreign.policy)
    assert client.get(url("embedding-set", policy, pk=foreign_set.pk)).status_code == 404
    delete = url("embedding-set-delete", policy, pk=foreign_set.pk)
    assert client.post(delete, {"revision": 1}).status_code == 404


def test_viewer_reads_rule_pages_and_every_post_is_403(client, policy, concept, viewer, editor):
    image = add_images(concept, editor, count=1)[0]
    embedding_set = EmbeddingRuleSetFactory(policy=policy)
    client.force_login(viewer)
    page = text(client.get(url("concept", policy, pk=concept.pk)))
    assert "x0.png" in page
    assert "Upload" not in page
    assert "Make negative" not in page
    assert client.get(url("embedding-set", policy, pk=embedding_set.pk)).status_code == 200
    posts = [
        url("embedding-set-create", policy),
        url("embedding-set", policy, pk=embedding_set.pk),
        url("embedding-set-delete", policy, pk=embedding_set.pk),
        url("concept-create", policy),
        url("concept", policy, pk=concept.pk),
        url("concept-images", policy, pk=concept.pk),
        url("concept-image-positive", policy, pk=concept.pk, image_pk=image.pk),
        url("concept-image-remove", policy, pk=concept.pk, image_pk=image.pk),
        url("concept-delete", policy, pk=concept.pk),
    ]
    for target in posts:
        assert client.post(target, phrases()).status_code == 403, target


def test_anonymous_and_outsider_on_rule_pages(client, policy, concept, outsider):
    pages = [url("concept", policy, pk=concept.pk), url("embedding-set-create", policy)]
    for target in pages:
        assert client.get(target).status_code == 302
    client.force_login(outsider)
    for target in pages:
        assert client.get(target).status_code == 404
        assert client.post(target, phrases()).status_code == 404


def test_concept_delete_asks_first(client, policy, concept, editor):
    client.force_login(editor)
    target = url("concept-delete", policy, pk=concept.pk)
    assert "Delete the concept “Logo”?" in text(client.get(target))
    assert client.post(target, {"revision": 1}).status_code == 302
    assert not ClipConcept.objects.exists()
