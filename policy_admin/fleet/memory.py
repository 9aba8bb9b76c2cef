"""Recently served published bundles, kept in this process: they never change once stored."""

import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings

from policy_admin.models import PolicyVersion


@dataclass(frozen=True)
class Served:
    """What a bundle response needs: the bytes and the headers that describe them."""

    body: bytes
    number: int
    sha256: str
    signatures: str


_lock = threading.Lock()
_held: OrderedDict[tuple[int, int], Served] = OrderedDict()
_size = 0


def served_bundle(*, policy_id: int, number: int) -> Served | None:
    """Version `number` of the policy, from memory or the database; None when there is none."""
    key = (policy_id, number)
    with _lock:
        hit = _held.get(key)
        if hit is not None:
            _held.move_to_end(key)
            return hit
    rows = list(PolicyVersion.objects.filter(policy_id=policy_id, number=number)[:1])
    if not rows:
        return None
    version = rows[0]
    served = Served(
        bytes(version.bundle), version.number, version.sha256, version.signature_header()
    )
    _remember(key, served)
    return served


def _remember(key, served: Served) -> None:
    global _size
    limit = settings.MODERATION_FLEET_BUNDLE_MEMORY_BYTES
    if len(served.body) > limit:
        return
    with _lock:
        if key in _held:
            return
        _held[key] = served
        _size += len(served.body)
        while _size > limit:
            _key, old = _held.popitem(last=False)
            _size -= len(old.body)


def forget_all() -> None:
    """Empty the memory (tests, and a policy deleted and re-created under the same id)."""
    global _size
    with _lock:
        _held.clear()
        _size = 0
