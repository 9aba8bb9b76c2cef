"""Factories and archive builders for sample sets; a child takes its parent's tenant."""

import io
import json
import zipfile

import factory
from PIL import Image

from moderation.models import Sample, SampleSet
from moderation.services.samples import search_keys
from tests.tenants.factories import TenantFactory


class SampleSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SampleSet

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Samples {n}")


class SampleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sample

    sample_set = factory.SubFactory(SampleSetFactory)
    tenant = factory.SelfAttribute("sample_set.tenant")
    external_id = factory.Sequence(lambda n: f"s{n}")
    prompt = factory.Sequence(lambda n: f"a harmless prompt number {n}")
    content_sha256 = factory.Sequence(lambda n: f"{n:064x}")
    expected_action = "allow"
    expected_categories = factory.LazyFunction(list)
    tags = factory.LazyFunction(list)
    search_keys = factory.LazyAttribute(
        lambda s: search_keys(
            action=s.expected_action, categories=s.expected_categories, tags=s.tags
        )
    )


def png_bytes(colour=(200, 30, 30), size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def archive(rows: list[dict], files: dict[str, bytes] | None = None, kind="jsonl") -> bytes:
    """A zip holding a manifest of `rows` (JSONL or CSV) and the given extra files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        if kind == "jsonl":
            zf.writestr("manifest.jsonl", "\n".join(json.dumps(r) for r in rows))
        elif kind == "csv":
            zf.writestr("manifest.csv", rows)
        for name, data in (files or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()
