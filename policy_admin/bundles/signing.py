"""Ed25519 signing keys for bundles: files outside the database, rotation with an overlap.

Keys live in MODERATION_SIGNING_KEY_DIR (default DATA_DIR/signing-keys), one
PEM file per key, named `<kid>.<status>.pem`, written with mode 0600 in a 0700
folder. Exactly one key is `active`; after a rotation the previous one is
`retiring` and still signs, so agents that pinned only the old key keep
accepting bundles published during the overlap. `signing_key_retire` ends the
overlap. A deployment can instead give one key as PEM in
MODERATION_SIGNING_KEY_PEM (from a secret store), which is then the only key.
The key id is the first 16 hex digits of the sha256 of the raw public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

ACTIVE, RETIRING = "active", "retiring"
_lock = threading.Lock()


@dataclass(frozen=True)
class SigningKey:
    """One key pair, its id and whether it is the active key or retiring."""

    kid: str
    status: str
    private_key: Ed25519PrivateKey

    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def as_public_dict(self) -> dict:
        return {
            "kid": self.kid,
            "alg": "Ed25519",
            "public_key": base64.b64encode(self.public_raw()).decode(),
            "status": self.status,
        }


def key_id(public_raw: bytes) -> str:
    """The key id: the first 16 hex digits of the sha256 of the 32 raw public-key bytes."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def key_dir() -> Path:
    return Path(settings.MODERATION_SIGNING_KEY_DIR)


def signing_keys() -> list[SigningKey]:
    """The keys that sign, active first; creates the first key on first use."""
    pem = getattr(settings, "MODERATION_SIGNING_KEY_PEM", "")
    if pem:
        return [_from_pem(pem.encode(), ACTIVE)]
    with _lock:
        keys = _read_dir()
        if not keys:
            keys = [_write_key(Ed25519PrivateKey.generate(), ACTIVE)]
    return sorted(keys, key=lambda k: k.status != ACTIVE)


def sign(data: bytes) -> list[dict]:
    """`[{"kid", "signature"}]`: every current key's Ed25519 signature over `data`, base64."""
    return [
        {"kid": k.kid, "signature": base64.b64encode(k.private_key.sign(data)).decode()}
        for k in signing_keys()
    ]


def verify(data: bytes, signature_b64: str, public_key_b64: str) -> bool:
    """Whether `signature_b64` is a valid signature of `data` by this raw public key."""
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    try:
        public.verify(base64.b64decode(signature_b64), data)
    except Exception:  # cryptography raises InvalidSignature; any malformed input is "no"
        return False
    return True


def public_keys() -> dict:
    """The document served at /.well-known/moderation-bundle-keys.json."""
    return {"keys": [k.as_public_dict() for k in signing_keys()]}


def signing_key_rotate() -> SigningKey:
    """Make a new active key; the active one becomes retiring, older retiring ones are dropped."""
    _refuse_when_pem()
    with _lock:
        current = _read_dir()
        for key in current:
            if key.status == RETIRING:
                _path(key).unlink()
        for key in current:
            if key.status == ACTIVE:
                _path(key).rename(_path(SigningKey(key.kid, RETIRING, key.private_key)))
        return _write_key(Ed25519PrivateKey.generate(), ACTIVE)


def signing_key_retire() -> list[str]:
    """End a rotation's overlap: delete the retiring keys; returns their ids."""
    _refuse_when_pem()
    with _lock:
        gone = [k for k in _read_dir() if k.status == RETIRING]
        for key in gone:
            _path(key).unlink()
    return [k.kid for k in gone]


def _refuse_when_pem() -> None:
    if getattr(settings, "MODERATION_SIGNING_KEY_PEM", ""):
        raise RuntimeError(
            "The signing key comes from MODERATION_SIGNING_KEY_PEM; rotate it in the secret "
            "store (see docs/fleet.md), not here."
        )


def _read_dir() -> list[SigningKey]:
    folder = key_dir()
    if not folder.is_dir():
        return []
    keys = []
    for path in sorted(folder.glob("*.pem")):
        _kid, status, _ext = path.name.split(".")
        keys.append(_from_pem(path.read_bytes(), status))
    return keys


def _from_pem(pem: bytes, status: str) -> SigningKey:
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError("The signing key is not an Ed25519 private key.")
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return SigningKey(kid=key_id(raw), status=status, private_key=private)


def _path(key: SigningKey) -> Path:
    return key_dir() / f"{key.kid}.{key.status}.pem"


def _write_key(private: Ed25519PrivateKey, status: str) -> SigningKey:
    folder = key_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key = _from_pem(pem, status)
    # O_EXCL with 0600: the secret is never readable by others, not even for an instant.
    fd = os.open(_path(key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key
