"""Sample sets: create, rename, delete, import a labelled archive, edit a sample's labels."""

import hashlib

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from kernel.errors import ApplicationError, ConflictError
from kernel.uploads import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, ImageUpload
from moderation.engine.catalogue import load_catalogue
from moderation.engine.decision import ACTIONS
from moderation.engine.images import ImageError, load_image
from moderation.models import Sample, SampleImport, SampleSet
from moderation.services import manifest

MAX_SAMPLES_PER_SET = 50_000


@transaction.atomic
def sample_set_create(*, tenant, actor, name: str, description: str = "") -> SampleSet:
    """A new, empty sample set; a name already used in the tenant is a ConflictError."""
    sample_set = SampleSet(
        tenant=tenant, name=name.strip(), description=description.strip(), created_by=actor
    )
    _save_unique(sample_set)
    return sample_set


@transaction.atomic
def sample_set_update(*, sample_set: SampleSet, name: str, description: str) -> SampleSet:
    """Rename a set and change its description; the name stays unique in the tenant."""
    sample_set.name, sample_set.description = name.strip(), description.strip()
    _save_unique(sample_set)
    return sample_set


def _save_unique(sample_set: SampleSet) -> None:
    if not sample_set.name:
        raise ApplicationError("Give the sample set a name.")
    clash = SampleSet.objects.filter(tenant=sample_set.tenant, name=sample_set.name)
    if clash.exclude(pk=sample_set.pk).exists():
        raise ConflictError(f"A sample set named “{sample_set.name}” already exists.")
    sample_set.full_clean(exclude=["created_by"], validate_constraints=False)
    sample_set.save()


@transaction.atomic
def sample_set_delete(*, sample_set: SampleSet) -> None:
    """Delete a set with its samples and the suite runs made on it."""
    sample_set.delete()


def search_keys(*, action: str, categories: list[str], tags: list[str]) -> str:
    """The filterable text of a sample's labels: ' action:block cat:x tag:y '."""
    keys = [f"action:{action}", *(f"cat:{c}" for c in categories), *(f"tag:{t}" for t in tags)]
    return f" {' '.join(keys)} "


def check_labels(action: str, categories: list[str]) -> str:
    """The reason `action` or a category is not a known label, or '' when both are."""
    if action not in ACTIONS:
        return f"expected_action {action!r} is not one of {', '.join(ACTIONS)}"
    known = load_catalogue().ids()
    unknown = [c for c in categories if c not in known]
    if unknown:
        return f"unknown categor{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}"
    return ""


@transaction.atomic
def sample_update_labels(
    *, sample: Sample, expected_action: str, expected_categories: list[str], tags: list[str]
) -> Sample:
    """Change a sample's expected action, categories and tags; unknown labels are refused."""
    problem = check_labels(expected_action, expected_categories)
    if problem:
        raise ApplicationError(problem[0].upper() + problem[1:] + ".")
    sample.expected_action = expected_action
    sample.expected_categories = list(expected_categories)
    sample.tags = [t for t in tags if t]
    sample.search_keys = search_keys(
        action=expected_action, categories=sample.expected_categories, tags=sample.tags
    )
    sample.save(update_fields=["expected_action", "expected_categories", "tags", "search_keys"])
    return sample


def sample_set_import(*, sample_set: SampleSet, actor, file_name: str, data: bytes) -> SampleImport:
    """Import a zip with a manifest (or a bare CSV/JSONL of prompts) into the set.

    Each row lands in its own savepoint or is refused with a reason stored on the
    returned SampleImport; images are decoded (load_image) before being stored,
    under content-addressed names in media storage only. A file-level problem
    (not a zip, no manifest, missing columns) raises ApplicationError and writes nothing.
    """
    archive, rows = _open_upload(file_name, data)
    room = MAX_SAMPLES_PER_SET - sample_set.samples.count()
    report = SampleImport(
        tenant=sample_set.tenant, sample_set=sample_set, file_name=file_name[:255], created_by=actor
    )
    for row in rows:
        error = row.error or _import_row(sample_set, archive, row.fields, room - report.imported)
        if error:
            report.errors.append(
                {"row": row.number, "id": row.fields.get("id", ""), "error": error}
            )
        else:
            report.imported += 1
    report.save()
    return report


def _open_upload(file_name: str, data: bytes):
    lower = file_name.lower()
    if lower.endswith((".csv", ".jsonl")):
        kind = "manifest.csv" if lower.endswith(".csv") else "manifest.jsonl"
        return None, manifest.parse_manifest(kind, data)
    archive = manifest.Archive(data, file_name)
    return archive, manifest.parse_manifest(*archive.manifest())


def _import_row(sample_set, archive, fields: dict, room: int) -> str:
    """Store one manifest row; the reason it was refused, or '' when stored."""

    def read_image() -> bytes:
        return _read_image(archive, fields["image"])

    _, error = _checked_store(sample_set, fields, room, read_image)
    return error


def _checked_store(sample_set, fields: dict, room: int, read_image) -> tuple[Sample | None, str]:
    """The importer's checks in its order (room, fields, labels, image), then `_store`.

    `read_image` returns the image bytes, decoded once to refuse what cannot be
    judged; it raises ValueError or ImageError with the reason.
    """
    if room <= 0:
        return None, f"the set is full ({MAX_SAMPLES_PER_SET:,} samples at most)"
    problem = _row_problem(fields)
    if problem:
        return None, problem
    image = b""
    if fields["image"]:
        try:
            image = read_image()
        except (ValueError, ImageError) as error:
            return None, str(error)
    return _store(sample_set, fields, image)


def _row_problem(fields: dict) -> str:
    if not fields["id"]:
        return "the id is empty"
    if len(fields["id"]) > 200:
        return "the id is longer than 200 characters"
    if not fields["prompt"] and not fields["image"]:
        return "a sample needs a prompt, an image, or both"
    return check_labels(fields["expected_action"], fields["expected_categories"])


def _read_image(archive, name: str) -> bytes:
    if archive is None:
        raise ValueError("images need a zip archive; a bare manifest cannot carry them")
    return _decodable(archive.read(name), name)


def _decodable(data: bytes, name: str) -> bytes:
    load_image(data, max_pixels=MAX_IMAGE_PIXELS, max_bytes=MAX_IMAGE_BYTES, name=name)
    return data


def _hashes(prompt: str, image: bytes) -> tuple[str, str]:
    """The image's sha256 ('' without one) and the content hash a set holds once."""
    image_sha = hashlib.sha256(image).hexdigest() if image else ""
    return image_sha, hashlib.sha256(f"{prompt}\x00{image_sha}".encode()).hexdigest()


def _store(sample_set, fields: dict, image: bytes) -> tuple[Sample | None, str]:
    image_sha, content = _hashes(fields["prompt"], image)
    same = sample_set.samples.filter(content_sha256=content).values_list("external_id", flat=True)
    if (twin := same.first()) is not None:
        return None, f"duplicate of sample {twin} (same prompt and image)"
    if sample_set.samples.filter(external_id=fields["id"]).exists():
        return None, f"the id {fields['id']} is already in the set"
    sample = Sample(
        tenant=sample_set.tenant,
        sample_set=sample_set,
        external_id=fields["id"],
        prompt=fields["prompt"],
        image_sha256=image_sha,
        content_sha256=content,
        expected_action=fields["expected_action"],
        expected_categories=fields["expected_categories"],
        tags=fields["tags"],
        notes=fields["notes"],
        search_keys=search_keys(
            action=fields["expected_action"],
            categories=fields["expected_categories"],
            tags=fields["tags"],
        ),
    )
    if image:
        sample.image.save(fields["image"].rsplit("/", 1)[-1], ContentFile(image), save=False)
    try:
        with transaction.atomic():
            sample.save()
    except IntegrityError:
        return None, "another import added the same sample at the same time"
    return sample, ""


@transaction.atomic
def sample_add(
    *,
    sample_set: SampleSet,
    prompt: str = "",
    image: ImageUpload | None = None,
    expected_action: str,
    expected_categories: list[str] = (),
    tags: list[str] = (),
    notes: str = "",
    external_id: str = "",
    id_prefix: str = "manual",
) -> Sample:
    """Add one labelled sample with exactly the importer's checks, limits and dedup.

    Without an id, the sample is named `<id_prefix>-<first 12 hex of its content hash>`.
    A refused sample raises ApplicationError with the importer's reason; nothing is stored.
    """
    prompt = prompt.strip()
    data = image.data if image else b""
    fields = {
        "id": external_id.strip() or f"{id_prefix}-{_hashes(prompt, data)[1][:12]}",
        "prompt": prompt,
        "image": image.name if image else "",
        "expected_action": expected_action.strip().lower(),
        "expected_categories": [c for c in expected_categories if c],
        "tags": [t for t in tags if t],
        "notes": notes.strip(),
    }
    room = MAX_SAMPLES_PER_SET - sample_set.samples.count()
    sample, error = _checked_store(sample_set, fields, room, lambda: _decodable(data, image.name))
    if sample is None:
        raise ApplicationError(f"Not added to “{sample_set.name}”: {error}.")
    return sample


def sample_add_from_run(*, run, position: int, sample_set: SampleSet, **labels) -> Sample:
    """Copy one judged input of a live test (its prompt and image) into a set, labelled."""
    if run.kind != run.Kind.LIVE:
        raise ApplicationError("Only a live test's inputs can be added to a sample set.")
    if run.tenant_id != sample_set.tenant_id:
        raise ApplicationError("The live test and the sample set belong to different tenants.")
    images = list(run.images.all())
    if images and not 0 <= position < len(images):
        raise ApplicationError(
            f"Test #{run.pk} judged {len(images)} input(s); there is no input {position + 1}."
        )
    upload = None
    if images:
        with images[position].image.open("rb") as handle:
            upload = ImageUpload(name=images[position].original_name, data=handle.read())
    return sample_add(
        sample_set=sample_set, prompt=run.prompt, image=upload, id_prefix=f"live-{run.pk}", **labels
    )
