"""Rotate the bundle signing key, or end a rotation's overlap with --retire."""

from django.core.management.base import BaseCommand, CommandError

from policy_admin.bundles import signing


class Command(BaseCommand):
    help = (
        "Make a new active signing key; the current one keeps signing as 'retiring' until "
        "`signing_key_rotate --retire`, so agents pinned to it keep working meanwhile."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retire", action="store_true", help="Delete the retiring key(s): end the overlap."
        )

    def handle(self, *args, retire: bool, **options):
        try:
            if retire:
                gone = signing.signing_key_retire()
                self.stdout.write(f"Retired: {', '.join(gone) or 'no retiring key'}.")
                return
            signing.signing_keys()  # the first key exists before it can retire
            key = signing.signing_key_rotate()
        except RuntimeError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"New active key {key.kid}. The previous key signs too until you run "
            "`manage.py signing_key_rotate --retire` once every agent pins the new one."
        )
