"""`manage.py seed_demo` builds a realistic example through the real services, repeatably."""

import pytest
from django.core.management import call_command

from policy_admin import catalogue
from policy_admin.models import FloorCategory, Policy

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_people_policy_and_floor(settings, tmp_path, capsys):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", password="demo-password-1", no_suite=True)
    call_command("seed_demo", password="demo-password-1", no_suite=True)  # replaces, never doubles

    out = capsys.readouterr().out
    assert "acme-editor" in out
    assert "demo-password-1" in out
    policy = Policy.objects.get(tenant__slug="acme", slug="default")
    thresholds = {t.category for t in policy.category_thresholds.all()}
    assert thresholds == {c.id for c in catalogue.categories()}
    assert sum(k.term_count for k in policy.keyword_sets.all()) >= 300
    assert policy.embedding_sets.count() == 2
    concept = policy.concepts.get()
    assert concept.images.filter(positive=True).count() >= 3
    assert FloorCategory.objects.get(category="sexual/minors").block_at == 0.3
    assert Policy.objects.filter(slug="default").count() == 1


def test_seed_demo_adds_a_labelled_sample_set_with_three_finished_suites(settings, tmp_path):
    from moderation import quality
    from moderation.models import SampleSet, TestRun

    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", password="demo-password-1")
    sample_set = SampleSet.objects.get(tenant__slug="acme", name="Demo samples")
    assert sample_set.samples.count() == 300
    assert sample_set.samples.exclude(image="").count() == 60
    runs = list(TestRun.objects.filter(sample_set=sample_set).order_by("id"))
    assert [(r.status, r.progress_done) for r in runs] == [(TestRun.Status.SUCCEEDED, 300)] * 3
    flagged = runs[0].result["metrics"]["action"]["flag_or_worse"]
    assert flagged["support"] == 100
    assert flagged["fn"] > 0  # the demo keeps a few misses to look at
    # A draft change between suites: each evaluated a newer revision, with other metrics.
    assert runs[0].policy_revision < runs[1].policy_revision < runs[2].policy_revision
    f1 = [r.result["metrics"]["action"]["flag_or_worse"]["f1"] for r in runs]
    assert len(set(f1)) == 3
    # The concept's new examples moved its scores; the category scores stayed where they were.
    drifted = {d.name: d.drift for d in quality.runs_drift(runs[1], runs[2])}
    assert drifted.pop("concept: Firearm on display").flagged
    assert {d.psi for d in drifted.values()} == {0.0}
