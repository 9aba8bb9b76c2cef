"""manage.py policy_export <tenant> <policy> [-o file]: a policy's draft as YAML."""

from pathlib import Path

from django.core.management.base import BaseCommand

from policy_admin.management.commands._policy_args import policy_named, tenant_named
from policy_admin.services.policy_yaml import policy_export


class Command(BaseCommand):
    help = "Write a policy's draft as YAML (schema version 1) to a file or standard output."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="The tenant's slug.")
        parser.add_argument("policy", help="The policy's slug.")
        parser.add_argument("-o", "--output", help="A file to write (default: standard output).")

    def handle(self, *args, tenant, policy, output=None, **options):
        text = policy_export(policy_named(tenant_named(tenant), policy))
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {output}.")
        else:
            self.stdout.write(text, ending="")
