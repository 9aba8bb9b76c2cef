"""List the bundle signing keys: id, status and public key."""

from django.core.management.base import BaseCommand

from policy_admin.bundles import signing


class Command(BaseCommand):
    help = "List the signing keys (creating the first on first use) with their public keys."

    def handle(self, *args, **options):
        for key in signing.public_keys()["keys"]:
            self.stdout.write(f"{key['kid']}  {key['status']:<8}  {key['public_key']}")
