"""Pinned Ed25519 keys and the X-Bundle-Signatures header: who may sign what this agent runs.

The agent trusts only the keys its configuration names; the server's key list is never
trusted on its own (fetching it is a convenience for `--print-keys`). Several key ids may
be trusted at once, which is how a rotation proceeds without breaking agents.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from moderation.fleet.refusal import Refused


class KeyConfigError(ValueError):
    """The trusted-keys configuration cannot be used; the message says which entry and why."""


def decode_b64(text: str) -> bytes:
    """Decode standard or URL-safe base64, padding optional; raises ValueError when invalid."""
    text = text.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not valid base64 ({exc})") from None


class TrustedKeys:
    """A fixed set of pinned public keys, by key id."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise KeyConfigError(
                "no trusted signing keys are configured; pin at least one (see --trusted-keys)"
            )
        self._keys = {kid: _public_key(kid, raw) for kid, raw in keys.items()}

    @property
    def kids(self) -> tuple[str, ...]:
        """The trusted key ids, sorted."""
        return tuple(sorted(self._keys))

    def verify(self, body: bytes, header: str | None, *, version: int | None, sha256: str) -> str:
        """Return the kid of a trusted key whose signature over `body` verifies, else raise Refused.

        Unknown key ids are skipped; if no signature names a trusted key the reason is
        `unknown_key`, if one does but none verifies it is `bad_signature`.
        """
        where = {"version": version, "sha256": sha256}
        signatures = parse_signatures(header)
        if not signatures:
            raise Refused("bad_signature", "the response carries no X-Bundle-Signatures", **where)
        known = [(kid, sig) for kid, sig in signatures if kid in self._keys]
        if not known:
            names = ", ".join(kid for kid, _ in signatures)
            raise Refused(
                "unknown_key",
                f"the bundle is signed only by key id(s) {names}, none of which this agent "
                f"trusts (trusted: {', '.join(self.kids)}); pin the new key if it is genuine",
                **where,
            )
        for kid, sig in known:
            if _verifies(self._keys[kid], sig, body):
                return kid
        raise Refused(
            "bad_signature",
            f"the signature of key {known[0][0]} does not verify over the bundle bytes; "
            "the bundle or its signature was altered",
            **where,
        )


def parse_signatures(header: str | None) -> list[tuple[str, str]]:
    """Split `kid=<base64>,kid2=<base64>` into pairs; entries without a kid are dropped."""
    pairs = []
    for entry in (header or "").split(","):
        kid, sep, sig = entry.strip().partition("=")
        if sep and kid.strip():
            pairs.append((kid.strip(), sig.strip()))
    return pairs


def _verifies(key: Ed25519PublicKey, signature: str, body: bytes) -> bool:
    try:
        key.verify(decode_b64(signature), body)
    except (InvalidSignature, ValueError):
        return False
    return True


def _public_key(kid: str, raw: bytes) -> Ed25519PublicKey:
    if len(raw) != 32:
        raise KeyConfigError(
            f"trusted key {kid!r}: an Ed25519 public key is 32 bytes, not {len(raw)}"
        )
    return Ed25519PublicKey.from_public_bytes(raw)


def parse_key_list(text: str, source: str) -> dict[str, bytes]:
    """Parse `kid=<base64 public key>,kid2=...` (the FLEET_TRUSTED_KEYS form)."""
    keys = {}
    for kid, value in parse_signatures(text):
        try:
            keys[kid] = decode_b64(value)
        except ValueError as exc:
            raise KeyConfigError(f"{source}: key {kid!r}: {exc}") from None
    if text.strip() and not keys:
        raise KeyConfigError(f"{source}: expected kid=<base64 public key>[,kid=...]")
    return keys


def load_key_file(path: str | Path) -> dict[str, bytes]:
    """Read a trusted-keys JSON file: the shape of GET /api/v1/fleet/keys, or {kid: base64}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeyConfigError(f"trusted keys file {path}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        raise KeyConfigError(f"trusted keys file {path}: not valid JSON ({exc})") from None
    entries = data.get("keys") if isinstance(data, dict) and "keys" in data else data
    if isinstance(entries, dict):
        entries = [{"kid": k, "public_key": v} for k, v in entries.items()]
    if not isinstance(entries, list):
        raise KeyConfigError(
            f"trusted keys file {path}: expected {{'keys': [...]}} or {{kid: key}}"
        )
    return dict(_key_entry(entry, path) for entry in entries)


def _key_entry(entry: object, path: str | Path) -> tuple[str, bytes]:
    if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
        raise KeyConfigError(f"trusted keys file {path}: each key needs a 'kid' and 'public_key'")
    kid = entry["kid"]
    if entry.get("alg", "Ed25519") != "Ed25519":
        raise KeyConfigError(
            f"trusted keys file {path}: key {kid!r} is {entry['alg']}, not Ed25519"
        )
    try:
        return kid, decode_b64(str(entry.get("public_key", "")))
    except ValueError as exc:
        raise KeyConfigError(f"trusted keys file {path}: key {kid!r}: {exc}") from None
