"""`manage.py seed_demo`: two tenants, their people, the example policy and the floor."""

import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from moderation.demo.classifiers import seed_classifier
from moderation.demo.conditions import seed_paired
from moderation.demo.production import seed_production
from moderation.demo.robustness import describe, seed_robustness
from moderation.demo.samples import seed_samples
from policy_admin.demo.fleet import agent_command, agent_script, seed_fleet
from policy_admin.demo.seed import seed_floor, seed_policy
from tenants.models import Membership, Tenant
from tenants.roles import Role

User = get_user_model()

TENANTS = [("acme", "Acme Images"), ("globex", "Globex Kids")]
PEOPLE = [
    # username, staff, [(tenant slug, role)]
    ("acme-admin", False, [("acme", Role.ADMIN)]),
    ("acme-editor", False, [("acme", Role.EDITOR)]),
    ("acme-reviewer", False, [("acme", Role.REVIEWER)]),
    ("acme-viewer", False, [("acme", Role.VIEWER)]),
    ("globex-admin", False, [("globex", Role.ADMIN)]),
    ("solutions", True, [("acme", Role.EDITOR), ("globex", Role.EDITOR)]),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo tenants and people, and print their logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help="Use this password for every demo user instead of random ones."
        )
        parser.add_argument(
            "--no-suite",
            action="store_true",
            help=(
                "Skip the demo sample set, its three suites and the demo classifier (they "
                "load the models and evaluate 900 samples: about a minute on two cores)."
            ),
        )
        parser.add_argument(
            "--fleet-server",
            default="http://127.0.0.1:8000",
            help="The URL the printed fleet agent command fetches bundles from.",
        )
        parser.add_argument(
            "--agent-script",
            help="Also write the fleet agent command to this file (make demo runs it).",
        )

    @transaction.atomic
    def handle(self, *args, password=None, **options):
        tenants = {
            slug: Tenant.objects.update_or_create(slug=slug, defaults={"name": name})[0]
            for slug, name in TENANTS
        }
        logins = []
        for username, staff, roles in PEOPLE:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = staff
            user_password = password or secrets.token_urlsafe(9)
            user.set_password(user_password)
            user.save()
            for slug, role in roles:
                Membership.objects.update_or_create(
                    user=user, tenant=tenants[slug], defaults={"role": role}
                )
            where = ", ".join(f"{role.label.lower()} of {tenants[s].name}" for s, role in roles)
            logins.append((username, user_password, where))
        staff = User.objects.get(username="solutions")
        seed_floor(actor=staff)
        policy = seed_policy(tenant=tenants["acme"], actor=staff)
        self.stdout.write(f"Example policy: {tenants['acme'].name} / {policy.name}")
        self.stdout.write("Robustness reports of its keyword sets:")
        for report in seed_robustness(policy=policy, actor=staff):
            self.stdout.write(describe(report))
        if not options.get("no_suite"):
            run = seed_samples(tenant=tenants["acme"], policy=policy, actor=staff)
            self.stdout.write(
                f"Demo sample set: {run.progress_total} samples, last suite #{run.pk} {run.status}"
            )
            off, on = seed_paired(tenant=tenants["acme"], policy=policy, actor=staff)
            self.stdout.write(
                f"Paired prompts and images: suite #{off.pk} without the conditional rule, "
                f"#{on.pk} with it (compare them for what it changes)"
            )
            classifier = seed_classifier(policy=policy, sample_set=run.sample_set, actor=staff)
            ap = classifier.version.metrics["average_precision"]
            self.stdout.write(
                f"Demo classifier: {classifier.name} v{classifier.version.number}, "
                f"average precision {ap:.2f}, threshold {classifier.threshold}"
            )
        self._seed_fleet(
            policy,
            tenants["acme"],
            server=options["fleet_server"],
            script=options.get("agent_script"),
        )
        renewed = "" if password else " (passwords are new on every run)"
        self.stdout.write(f"Demo logins{renewed}:")
        for username, user_password, where in logins:
            self.stdout.write(f"  {username:<14} {user_password:<14} {where}")

    def _seed_fleet(self, policy, tenant, *, server: str, script: str | None) -> None:
        admin = User.objects.get(username="acme-admin")
        demo = seed_fleet(
            policy=policy, publisher=User.objects.get(username="solutions"), admin=admin
        )
        channels = f"{server}/t/{tenant.slug}/policies/{policy.slug}/channels/production/"
        seeded = seed_production(policy=policy, version=demo.version, reviewer=admin)
        self.stdout.write(
            f"Production: {seeded.counted} decisions over two days, {seeded.waiting} waiting in "
            f"the review queue, {seeded.labelled} audited decisions labelled (quality page)."
        )
        command = agent_command(demo=demo, server=server)
        self.stdout.write(
            f"Published {policy.name} v{demo.version.number} to staging and production.\n"
            f"Shadowing the stricter v{demo.shadow.number} on every production request: "
            f"its flips show on {channels}shadow/\n"
            f"Demo fleet token (new on every run, shown once): {demo.secret}"
        )
        if script:
            path = Path(script)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(agent_script(demo=demo, server=server))
            path.chmod(0o700)  # it holds the token
            self.stdout.write(f"Fleet agent command written to {path}; watch it on {channels}")
        else:
            self.stdout.write(
                "Run a fleet agent against this server (another terminal), then watch it on "
                f"{channels}\n  {command}"
            )
