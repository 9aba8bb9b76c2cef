"""manage.py policy_import <tenant> <policy> file.yaml [--zip images.zip] [--create] --user NAME."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kernel.errors import ApplicationError
from policy_admin.management.commands._policy_args import editor_named, policy_named, tenant_named
from policy_admin.policy_yaml.problems import PolicyYamlError
from policy_admin.services import policy_yaml


class Command(BaseCommand):
    help = (
        "Replace a policy's draft with a YAML file, all or nothing, as one audited import. "
        "Every problem is listed with its path."
    )

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="The tenant's slug.")
        parser.add_argument("policy", help="The policy's slug.")
        parser.add_argument("file", help="The policy YAML.")
        parser.add_argument("--zip", help="A zip of the example images the YAML names.")
        parser.add_argument("--create", action="store_true", help="Create the policy if absent.")
        parser.add_argument("--user", required=True, help="Who imports: a member with edit rights.")

    def handle(self, *args, **options):
        tenant = tenant_named(options["tenant"])
        actor = editor_named(tenant, options["user"])
        text = _read(options["file"])
        images = _read(options["zip"]) if options["zip"] else None
        try:
            result = self.run_import(tenant, actor, options, text, images)
        except PolicyYamlError as error:
            for problem in error.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(error.message) from None
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"{result.policy.name} is at revision {result.policy.revision}: {result.summary}."
        )

    def run_import(self, tenant, actor, options, text, images):
        slug = options["policy"]
        if options["create"] and not tenant_has_policy(tenant, slug):
            return policy_yaml.policy_create_from_yaml(
                tenant=tenant, actor=actor, slug=slug, text=text, images_zip=images
            )
        policy = policy_named(tenant, slug)
        return policy_yaml.policy_import(
            policy=policy, actor=actor, revision=policy.revision, text=text, images_zip=images
        )


def tenant_has_policy(tenant, slug: str) -> bool:
    try:
        policy_named(tenant, slug)
    except CommandError:
        return False
    return True


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
