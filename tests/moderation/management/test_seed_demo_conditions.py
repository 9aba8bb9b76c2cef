"""The demo's paired samples show its conditional rule: the same images, judged stricter
after a prompt with a minor signal."""

import pytest

from moderation.demo.conditions import seed_paired
from moderation.models import SampleResult
from moderation.selectors import compare
from policy_admin.demo.seed import seed_floor, seed_policy

pytestmark = [pytest.mark.django_db, pytest.mark.models]  # real open_nsfw and NudeNet


def test_the_paired_suites_move_the_signalled_samples_only(tenant, admin, media):
    seed_floor(actor=admin)
    policy = seed_policy(tenant=tenant, actor=admin)
    off, on = seed_paired(tenant=tenant, policy=policy, actor=admin)
    got = dict(SampleResult.objects.filter(run=on).values_list("sample__external_id", "action"))
    assert got == {
        "schoolboy-bicycle": "review",
        "man-bicycle": "allow",
        "teens-skating": "review",
        "adults-skating": "allow",
    }
    comparison = compare.suite_compare(before=off, after=on)
    moved = comparison.stricter["flag → review"]
    assert sorted(r.sample.external_id for r in moved) == ["schoolboy-bicycle", "teens-skating"]
    assert all("set image sexual: review 0.5 → 0.2" in " ".join(r.condition_changes)
               for r in moved)  # fmt: skip
    recall = [r.result["metrics"]["categories"]["sexual"]["recall"] for r in (off, on)]
    assert recall == [0.0, 1.0]
