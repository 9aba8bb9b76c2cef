"""`manage.py worker_check`: is a worker consuming each queue? Exit 1 when one is not."""

from celery.exceptions import TimeoutError as CeleryTimeout
from django.core.management.base import BaseCommand, CommandError

from kernel.queues import QUEUE_DEFAULT, QUEUE_GPU
from moderation.tasks.system import ping


class Command(BaseCommand):
    help = "Send a ping to the default and gpu queues and report which worker answered."

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=float, default=30.0, help="Seconds to wait per queue."
        )

    def handle(self, *args, timeout, **options):
        missing = []
        for queue in (QUEUE_DEFAULT, QUEUE_GPU):
            result = ping.apply_async(args=[queue], queue=queue)
            try:
                answer = result.get(timeout=timeout)
            except CeleryTimeout:
                missing.append(queue)
                self.stderr.write(f"queue {queue}: no worker answered within {timeout:.0f} s")
                continue
            finally:
                result.forget()
            self.stdout.write(
                f"queue {queue}: answered by {answer['hostname']} pid {answer['pid']}"
            )
        if missing:
            raise CommandError(
                f"No worker consumes {', '.join(missing)}. Start one with "
                "`celery -A config worker -Q default,gpu`."
            )
