"""Factories and archive builders for sample sets; a child takes its parent's tenant."""

import io
import json
import zipfile

import factory
from django.utils import timezone

from moderation.models import Sample, SampleResult, SampleSet, TestRun
from moderation.services.samples import search_keys
from tests.policy_admin.factories import PolicyFactory
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


class SuiteRunFactory(factory.django.DjangoModelFactory):
    """A finished suite of a policy over a set of the same tenant (results added separately)."""

    class Meta:
        model = TestRun

    policy = factory.SubFactory(PolicyFactory)
    tenant = factory.SelfAttribute("policy.tenant")
    sample_set = factory.SubFactory(SampleSetFactory, tenant=factory.SelfAttribute("..tenant"))
    kind = TestRun.Kind.SUITE
    status = TestRun.Status.SUCCEEDED
    policy_revision = 1
    finished_at = factory.LazyFunction(timezone.now)
    result = factory.LazyFunction(lambda: {"metrics": {}})


class SampleResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SampleResult

    run = factory.SubFactory(SuiteRunFactory)
    tenant = factory.SelfAttribute("run.tenant")
    sample = factory.SubFactory(
        SampleFactory,
        sample_set=factory.SelfAttribute("..run.sample_set"),
    )
    action = "allow"
    decision = factory.LazyFunction(lambda: {"action": "allow", "results": [], "timings_ms": {}})


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
