"""Adding one sample: from a live test's input, on the set page, and through the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse, reverse_lazy

from kernel.uploads import ImageUpload
from moderation.models import Sample, TestRun
from moderation.services import runs
from moderation.tasks.gpu import run_execute
from tests.images import png_bytes
from tests.moderation.factories import SampleFactory, SampleSetFactory
from tests.policy_admin.factories import KeywordRuleSetFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    monkeypatch.setattr("moderation.tasks.gpu.run_execute.delay", run_execute)


@pytest.fixture
def sample_set(tenant):
    return SampleSetFactory(tenant=tenant, name="client")


@pytest.fixture
def live_run(policy, editor, django_capture_on_commit_callbacks):
    """A finished live test of a prompt with two images: two judged inputs."""
    KeywordRuleSetFactory(policy=policy, name="Banned", terms="forbidden", action="block")
    uploads = [
        ImageUpload("red.png", png_bytes((200, 0, 0))),
        ImageUpload("blue.png", png_bytes((0, 0, 200))),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.live_test_start(policy=policy, actor=editor, prompt="forbidden", uploads=uploads)
    run.refresh_from_db()
    assert run.status == TestRun.Status.SUCCEEDED, run.error
    return run


CONSOLE = reverse_lazy("live-console", kwargs={"tenant": "acme", "slug": "default"})


def add_url(run, tenant="acme"):
    return reverse("live-run-sample", kwargs={"tenant": tenant, "slug": "default", "pk": run.pk})


def set_page(sample_set):
    return reverse("sample-set", kwargs={"tenant": "acme", "pk": sample_set.pk})


LABELS = {"expected_action": "block", "expected_categories": "violence", "tags": "live, hard"}


def test_the_console_adds_a_judged_input_with_its_image_and_label(
    client, editor, live_run, sample_set
):
    client.force_login(editor)
    console = client.get(CONSOLE, {"run": live_run.pk}).content.decode()
    assert console.count('data-testid="add-sample"') == 2
    assert f'<option value="{sample_set.pk}">client</option>' in console

    response = client.post(
        add_url(live_run),
        {"sample_set": sample_set.pk, "input": 1, **LABELS},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 201
    sample = Sample.objects.get()
    assert f'Added <a href="{set_page(sample_set)}?label=block"><code>{sample.external_id}' in (
        response.content.decode()
    )
    blue = live_run.images.get(position=1)
    assert (sample.prompt, sample.image_sha256) == ("forbidden", blue.sha256)
    assert sample.external_id.startswith(f"live-{live_run.pk}-")
    assert (sample.expected_action, sample.expected_categories, sample.tags) == (
        "block",
        ["violence"],
        ["live", "hard"],
    )
    assert sample.image.read() == png_bytes((0, 0, 200))


def test_the_same_input_twice_is_a_duplicate_and_bad_labels_are_named(
    client, editor, live_run, sample_set
):
    client.force_login(editor)
    form = {"sample_set": sample_set.pk, "input": 0, **LABELS}
    client.post(add_url(live_run), form, HTTP_HX_REQUEST="true")
    again = client.post(add_url(live_run), form, HTTP_HX_REQUEST="true")
    assert again.status_code == 400
    twin = Sample.objects.get().external_id
    assert (
        f"Not added to “client”: duplicate of sample {twin} (same prompt and image)."
        in again.content.decode()
    )

    bad = client.post(
        add_url(live_run),
        {**form, "input": 1, "expected_categories": "weather"},
        HTTP_HX_REQUEST="true",
    )
    assert "unknown category weather" in bad.content.decode()
    missing = client.post(add_url(live_run), {**form, "input": 5}, HTTP_HX_REQUEST="true")
    assert "there is no input 6" in missing.content.decode()
    assert Sample.objects.count() == 1


def test_only_editors_add_and_other_tenants_sets_and_runs_are_404(
    client, editor, viewer, outsider, live_run, sample_set, other_tenant
):
    theirs = SampleSetFactory(tenant=other_tenant)
    form = {"sample_set": sample_set.pk, "input": 0, **LABELS}
    client.force_login(viewer)
    assert client.post(add_url(live_run), form).status_code == 403
    console = client.get(CONSOLE, {"run": live_run.pk}).content.decode()
    assert 'data-testid="add-sample"' not in console
    client.force_login(editor)
    assert client.post(add_url(live_run), {**form, "sample_set": theirs.pk}).status_code == 404
    assert client.post(add_url(live_run), {**form, "sample_set": "x"}).status_code == 404
    client.force_login(outsider)
    assert client.post(add_url(live_run), form).status_code == 404
    assert client.post(add_url(live_run, "globex"), form).status_code == 404
    assert not Sample.objects.exists()


def test_the_api_adds_a_live_input_with_the_same_rules(
    api_client, editor, viewer, outsider, live_run, sample_set, other_tenant
):
    url = reverse("live-test-add-sample", kwargs={"tenant": "acme", "pk": live_run.pk})
    body = {"sample_set": sample_set.pk, "input": 0, "expected_action": "review", "tags": ["api"]}
    api_client.force_authenticate(viewer)
    assert api_client.post(url, body, format="json").status_code == 403
    api_client.force_authenticate(editor)
    theirs = SampleSetFactory(tenant=other_tenant)
    assert api_client.post(url, {**body, "sample_set": theirs.pk}, format="json").status_code == 404
    response = api_client.post(url, body, format="json")
    assert response.status_code == 201
    assert response.json()["expected_action"] == "review"
    assert response.json()["image_sha256"] == live_run.images.get(position=0).sha256
    refused = api_client.post(url, {**body, "input": 1, "expected_action": "ban"}, format="json")
    assert refused.status_code == 400
    assert (
        "expected_action 'ban' is not one of allow, flag, review, block"
        in refused.json()["message"]
    )
    api_client.force_authenticate(outsider)
    assert api_client.post(url, body, format="json").status_code == 404


def set_add(sample_set):
    return reverse("sample-add", kwargs={"tenant": "acme", "pk": sample_set.pk})


def image(data=None, name="cat.png"):
    return SimpleUploadedFile(
        name, data if data is not None else png_bytes(), content_type="image/png"
    )


def test_the_set_page_adds_an_uploaded_labelled_sample(client, editor, sample_set):
    client.force_login(editor)
    page = client.get(set_page(sample_set)).content.decode()
    assert 'data-testid="sample-add"' in page
    form = {"prompt": "a cat", "image": image(), "expected_action": "flag",
            "expected_categories": "nudity", "tags": "pets, manual",
            "notes": "from a client call"}  # fmt: skip
    response = client.post(set_add(sample_set), form, follow=True)
    sample = Sample.objects.get()
    assert sample.external_id.startswith("manual-")
    assert (sample.prompt, sample.expected_action, sample.expected_categories) == (
        "a cat",
        "flag",
        ["nudity"],
    )
    assert (sample.tags, sample.notes) == (["pets", "manual"], "from a client call")
    assert sample.image.read() == png_bytes()
    assert f"Added {sample.external_id} to “client”." in response.content.decode()
    # The inline label edit still works on the added row.
    client.post(
        reverse(
            "sample-labels", kwargs={"tenant": "acme", "pk": sample_set.pk, "sample_pk": sample.pk}
        ),
        {"expected_action": "block", "expected_categories": "", "tags": "pets"},
        HTTP_HX_REQUEST="true",
    )
    sample.refresh_from_db()
    assert (sample.expected_action, sample.tags) == ("block", ["pets"])


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"image": image(b"this is not a picture", "fake.png")},
            "fake.png is not an image this platform can read",
        ),
        ({"image": image(b"", "empty.png")}, "empty.png is empty (0 bytes)"),
        ({"prompt": ""}, "a sample needs a prompt, an image, or both"),
        (
            {"expected_action": "ban"},
            "expected_action &#x27;ban&#x27; is not one of allow, flag, review, block",
        ),
        ({"expected_categories": "weather"}, "unknown category weather"),
        ({"external_id": "x" * 201}, "the id is longer than 200 characters"),
    ],
)
def test_bad_input_is_named_and_the_form_keeps_what_was_typed(
    client, editor, sample_set, form, message
):
    client.force_login(editor)
    response = client.post(
        set_add(sample_set), {"prompt": "a dog", "expected_action": "allow", **form}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="sample-add-error"' in page
    assert message in page
    if form.get("prompt", "a dog"):
        assert ">a dog</textarea>" in page
    assert not Sample.objects.exists()


def test_a_duplicate_says_which_sample_it_repeats(client, editor, sample_set):
    client.force_login(editor)
    first = {"prompt": "a dog", "expected_action": "allow", "external_id": "dog-1"}
    client.post(set_add(sample_set), {**first, "image": image()})
    response = client.post(
        set_add(sample_set), {**first, "external_id": "", "image": image(name="again.png")}
    )
    assert response.status_code == 400
    assert "duplicate of sample dog-1 (same prompt and image)" in response.content.decode()
    other = client.post(set_add(sample_set), {**first, "prompt": "another dog"})
    assert "the id dog-1 is already in the set" in other.content.decode()
    assert Sample.objects.count() == 1


def test_the_importers_limits_apply(client, editor, sample_set, monkeypatch):
    client.force_login(editor)
    monkeypatch.setattr("moderation.services.samples.MAX_IMAGE_PIXELS", 50)
    big = client.post(
        set_add(sample_set), {"expected_action": "allow", "image": image(png_bytes(size=(8, 8)))}
    )
    assert "cat.png is 8x8 pixels; the limit is" in big.content.decode()
    monkeypatch.setattr("moderation.services.samples.MAX_SAMPLES_PER_SET", 1)
    SampleFactory(sample_set=sample_set)
    full = client.post(set_add(sample_set), {"prompt": "one more", "expected_action": "allow"})
    assert "the set is full (1 samples at most)" in full.content.decode()
    assert Sample.objects.count() == 1


def test_viewers_cannot_add_and_outsiders_get_404(client, viewer, outsider, sample_set):
    client.force_login(viewer)
    assert (
        client.post(set_add(sample_set), {"prompt": "x", "expected_action": "allow"}).status_code
        == 403
    )
    assert 'data-testid="sample-add"' not in client.get(set_page(sample_set)).content.decode()
    client.force_login(outsider)
    assert (
        client.post(set_add(sample_set), {"prompt": "x", "expected_action": "allow"}).status_code
        == 404
    )
    assert (
        client.post(set_add(sample_set).replace("acme", "globex"), {"prompt": "x"}).status_code
        == 404
    )
    assert not Sample.objects.exists()


def test_the_api_adds_one_sample_and_refuses_a_duplicate(
    api_client, editor, viewer, outsider, sample_set
):
    url = reverse("api-sample-list", kwargs={"tenant": "acme", "set_pk": sample_set.pk})
    body = {"prompt": "a dog", "expected_action": "allow", "tags": ["api"]}
    api_client.force_authenticate(viewer)
    assert api_client.post(url, {**body, "image": image()}, format="multipart").status_code == 403
    api_client.force_authenticate(editor)
    created = api_client.post(url, {**body, "image": image()}, format="multipart")
    assert created.status_code == 201, created.json()
    assert created.json()["tags"] == ["api"]
    again = api_client.post(url, {**body, "image": image()}, format="multipart")
    assert again.status_code == 400
    assert "duplicate of sample" in again.json()["message"]
    api_client.force_authenticate(outsider)
    assert api_client.post(url, body, format="multipart").status_code == 404
    assert Sample.objects.count() == 1
