"""Tasks that tell whether workers are up and what they run on."""

import os
import socket

from celery import shared_task


@shared_task(name="moderation.tasks.system.ping", ignore_result=False)
def ping(queue: str) -> dict:
    """Answer from whichever worker consumes `queue`, naming host, process and queue."""
    return {"hostname": socket.gethostname(), "pid": os.getpid(), "queue": queue}
