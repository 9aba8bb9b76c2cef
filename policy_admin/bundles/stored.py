"""Reading a published version's stored bundle back, refusing bytes that no longer match it."""

import hashlib

from kernel.errors import ApplicationError
from moderation.engine.bundle.types import Bundle
from policy_admin.models import PolicyVersion


def version_bundle(version: PolicyVersion) -> Bundle:
    """The signed bundle stored for `version`, after checking its bytes against its sha256.

    A test of a version must judge with exactly what the fleet fetches, so the
    stored bytes are used as they are, never rebuilt from the draft.
    """
    data = bytes(version.bundle)
    digest = hashlib.sha256(data).hexdigest()
    if digest != version.sha256:
        raise ApplicationError(
            f"The stored bundle of v{version.number} does not match its sha256 "
            f"({digest[:12]}… instead of {version.sha256[:12]}…); it was altered after "
            "publishing. Publish the policy again and test the new version."
        )
    return Bundle.from_bytes(data)
