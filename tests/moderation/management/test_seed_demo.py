"""`manage.py seed_demo` builds a realistic example through the real services, repeatably."""

import dataclasses
import re
import subprocess

import pytest
from django.core.management import call_command
from django.urls import reverse

from moderation.engine.decision import Action
from moderation.engine.evaluate import evaluate
from policy_admin.models import (
    FleetInstance,
    FleetToken,
    FloorCategory,
    KeywordRobustnessReport,
    Policy,
)
from policy_admin.selectors import catalogue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fleet_isolated")]


def test_seed_demo_creates_people_policy_and_floor(capsys, media):
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
    assert [(c.name, c.version.number) for c in policy.channels.order_by("name")] == [
        ("production", 1),
        ("staging", 1),
    ]
    production = policy.channels.get(name="production")
    assert (production.shadow_version.number, production.shadow_rate) == (2, 1.0)
    assert policy.channels.get(name="staging").shadow_version is None
    assert "Shadowing the stricter v2 on every production request" in out
    reports = KeywordRobustnessReport.objects.filter(keyword_set__policy=policy)
    assert reports.count() == policy.keyword_sets.filter(term_count__gt=0).count() > 0
    assert {r.status for r in reports} == {KeywordRobustnessReport.Status.SUCCEEDED}
    assert "Robustness reports of its keyword sets:" in out
    assert "variants/s" in out
    live_tokens = FleetToken.objects.filter(tenant__slug="acme", revoked_at=None)
    assert [t.name for t in live_tokens] == ["demo agent"]  # the first run's one is revoked
    assert live_tokens[0].policy_ids == [policy.pk]


@pytest.mark.models  # its three suites load the models and judge 900 samples: a minute or more
def test_seed_demo_adds_a_labelled_sample_set_with_three_finished_suites(media):
    from moderation.models import SampleSet, TestRun
    from moderation.selectors import quality

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


@pytest.mark.models  # trains on the demo set with the real sentence encoder
def test_seed_demo_trains_a_classifier_that_the_published_bundle_carries(media, capsys):
    from moderation.models import TrainingRun
    from policy_admin.bundles.stored import version_bundle
    from policy_admin.models import CustomClassifier, PolicyVersion

    call_command("seed_demo", password="demo-password-1")
    classifier = CustomClassifier.objects.get(name="Drug talk")
    run = TrainingRun.objects.get(classifier=classifier)
    assert run.status == TrainingRun.Status.DONE
    assert classifier.version == run.version
    assert classifier.version.metrics["positives"] > 10
    version = PolicyVersion.objects.filter(policy=classifier.policy).latest("number")
    [rule] = version_bundle(version).classifiers
    assert (rule.name, rule.version) == ("Drug talk", 1)
    assert "Demo classifier: Drug talk v1" in capsys.readouterr().out


@pytest.mark.models  # the agent it starts is a new process that loads its own models
@pytest.mark.django_db(transaction=True)
def test_seed_demo_prints_a_fleet_agent_command_that_fills_the_rollout(
    settings, tmp_path, capsys, live_server, client, media
):
    settings.DATA_DIR = tmp_path
    call_command(
        "seed_demo", password="demo-password-1", no_suite=True, fleet_server=live_server.url
    )
    out = capsys.readouterr().out
    secret = re.search(r"Demo fleet token .*: (mfl_\S+)", out).group(1)
    command = re.search(r"^  (cd .* -m moderation\.fleet .*)$", out, re.MULTILINE).group(1)
    assert f"FLEET_TOKEN={secret}" in command
    assert f"--server {live_server.url}" in command

    done = subprocess.run(
        ["bash", "-c", f"{command} --once"], capture_output=True, text=True, timeout=180
    )

    assert done.returncode == 0, done.stderr
    assert '"version": 1' in done.stdout
    assert FleetInstance.objects.filter(tenant__slug="acme", instance_id="demo-gpu-1").exists()
    client.login(username="acme-viewer", password="demo-password-1")
    url = reverse(
        "policy-channel", kwargs={"tenant": "acme", "slug": "default", "channel": "production"}
    )
    page = client.get(url).content.decode()
    assert "demo-gpu-1" in page


def test_seed_demo_writes_the_agent_script_make_demo_runs(capsys, media, tmp_path):
    script = tmp_path / "var" / "demo-agent.sh"
    call_command("seed_demo", password="demo-password-1", no_suite=True, agent_script=str(script))
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash")
    assert "export FLEET_TOKEN=mfl_" in text
    assert "exec " in text
    assert "-m moderation.fleet" in text
    assert script.stat().st_mode & 0o777 == 0o700  # it holds the token
    assert f"written to {script}" in capsys.readouterr().out
    sampling = Policy.objects.get(tenant__slug="acme", slug="default").decision_sampling
    assert (sampling.audit_share, sampling.keep_blocks) == (0.1, True)


def test_seed_demo_fills_a_review_queue_and_labels_the_audit_for_the_quality_page(media):
    from moderation.models import DecisionCount, DecisionRecord, ReviewItem
    from moderation.selectors import production

    call_command("seed_demo", password="demo-password-1", no_suite=True)
    call_command("seed_demo", password="demo-password-1", no_suite=True)  # replaces, never doubles

    policy = Policy.objects.get(tenant__slug="acme", slug="default")
    assert DecisionRecord.objects.filter(policy=policy).count() == 190
    assert DecisionCount.objects.filter(policy=policy).count() == 48 * 2 * 4
    waiting = ReviewItem.objects.filter(queue__slug="default", status="open")
    assert waiting.count() == 40
    figures = production.policy_production(policy=policy)
    assert figures.backlog.open_items == 40
    flagged = figures.estimates["flag_or_worse"].precision
    assert flagged.n > 10
    assert 0.5 < flagged.value < 1.0
    assert flagged.low < flagged.value < flagged.high
    assert figures.estimates["block"].precision.n > 0


def test_seed_demo_shadows_a_stricter_version_that_flips_the_demo_traffic(media):
    from moderation.fleet.traffic import FLAGGED
    from policy_admin.bundles.stored import version_bundle
    from policy_admin.models import AuditEvent

    call_command("seed_demo", password="demo-password-1", no_suite=True)
    policy = Policy.objects.get(tenant__slug="acme", slug="default")
    production = policy.channels.get(name="production")
    enforced = version_bundle(production.version)
    candidate = version_bundle(production.shadow_version)

    actions = {ks.name: ks.action.value for ks in candidate.keyword_sets}
    assert {ks.name: ks.action.value for ks in enforced.keyword_sets} == {
        **actions, "Drugs": "review", "Weapons": "review",
    }  # fmt: skip
    assert (actions["Drugs"], actions["Weapons"]) == ("block", "block")
    flips = [p for p in FLAGGED if keyword_action(enforced, p) != keyword_action(candidate, p)]
    assert len(flips) >= 3  # the demo traffic's drug and weapon prompts
    assert {(keyword_action(enforced, p), keyword_action(candidate, p)) for p in flips} == {
        (Action.REVIEW, Action.BLOCK)
    }
    assert AuditEvent.objects.filter(target_type="shadow", verb="create").count() == 1


class NoModels:
    """Keyword rules need no model: pins are not checked for them here."""

    def check_pins(self, required):
        pass


def keyword_action(bundle, prompt):
    """The action of `bundle`'s keyword sets alone on `prompt`."""
    keywords = dataclasses.replace(
        bundle, thresholds=(), embedding_sets=(), concepts=(), classifiers=()
    )
    return evaluate(keywords, prompt=prompt, models=NoModels()).action
