"""`manage.py seed_demo` builds a realistic example through the real services, repeatably."""

import pytest
from django.core.management import call_command

from policy_admin import catalogue
from policy_admin.models import FloorCategory, Policy

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_people_policy_and_floor(settings, tmp_path, capsys):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", password="demo-password-1")
    call_command("seed_demo", password="demo-password-1")  # a second run replaces, never doubles

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
