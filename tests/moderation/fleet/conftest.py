"""A fake fleet server implementing the contract, signed bundles, fake models and agents."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from moderation.engine.bundle import Bundle, KeywordSet, PolicyInfo
from moderation.engine.decision import Action
from moderation.engine.models.base import ModelPin
from moderation.engine.providers import require_pins
from moderation.fleet.agent import FleetAgent
from moderation.fleet.client import FleetClient
from moderation.fleet.keys import TrustedKeys
from moderation.fleet.store import StateStore
from moderation.fleet.verify import Scope

TOKEN = "fleet-test-token"


def make_pin(name: str, version: str = "1") -> ModelPin:
    digest = hashlib.sha256(f"{name}{version}".encode()).hexdigest()
    return ModelPin(name, f"{name} {version}", digest)


class FakeTextEncoder:
    """Deterministic unit vectors; enough for bundles that hold keyword sets only."""

    def __init__(self, dim: int = 8) -> None:
        self.pin = make_pin("minilm")
        self.dim = dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.ones((len(texts), self.dim), dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


class FakeModels:
    """A ModelProvider with one text encoder and no scorers; pins checked exactly."""

    def __init__(self) -> None:
        self.text = FakeTextEncoder()

    def text_encoder(self):
        return self.text

    def image_encoder(self):
        raise AssertionError("no image encoder in these tests")

    def scorers(self, modality):
        return []

    def pins(self) -> dict[str, ModelPin]:
        return {"minilm": self.text.pin}

    def check_pins(self, required: Mapping[str, ModelPin]) -> None:
        require_pins(required, self.pins())


def make_bundle(
    version: int | None, *, slug: str = "default", tenant: str = "acme", pins=None
) -> Bundle:
    """A published bundle whose keyword set id names its version (kw-v<N>), blocking 'sex'."""
    return Bundle.create(
        policy=PolicyInfo(tenant, slug, "Default policy", version, version or 0),
        pins=pins if pins is not None else {"minilm": make_pin("minilm")},
        keyword_sets=(KeywordSet(f"kw-v{version}", "Adult words", Action.BLOCK, ("sex",)),),
    )


@dataclass
class Signer:
    """A signing key with its id, as the server holds it."""

    kid: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def public_b64(self) -> str:
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def public_raw(self) -> bytes:
        return base64.b64decode(self.public_b64())

    def header(self, body: bytes) -> str:
        return f"{self.kid}={base64.b64encode(self.key.sign(body)).decode()}"


@dataclass
class Served:
    """What the fake server answers for the channel: body and the headers vouching for it."""

    body: bytes
    sha256: str
    version: int | None
    signatures: str
    truncate: bool = False


class LoopbackServer:
    """An HTTP server on a free loopback port, answering from a thread; `_handler()` says how."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeFleet(LoopbackServer):
    """The fleet server side of the contract, with knobs for every fault the agent must survive."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.served: Served | None = None
        self.fail_with: int | None = None
        self.delay = 0.0
        self.redirect_to: str | None = None
        self.requests: list[dict] = []
        self.reports: list[dict] = []
        self.bodies_sent = 0
        # The shadow the channel names (X-Shadow-*) and the bodies of /versions/<n>/bundle.
        self.shadow: tuple[int, str, float] | None = None
        self.versions: dict[int, Served] = {}
        super().__init__()

    def publish_version(
        self,
        bundle: Bundle,
        *,
        tamper: bool = False,
        signatures: str | None = None,
        rate: float | None = None,
    ) -> Served:
        """Serve `bundle` at /versions/<n>/bundle; with `rate`, name it as the channel's shadow."""
        body = bundle.to_bytes()
        header = signatures if signatures is not None else self.signer.header(body)
        if tamper:
            body = body.replace(b"sex", b"sez", 1)
        version = bundle.policy.version
        served = self.versions[version] = Served(body, bundle.sha256, version, header)
        if rate is not None:
            self.shadow = (version, bundle.sha256, rate)
        return served

    def publish(
        self,
        bundle: Bundle,
        *,
        signers: Sequence[Signer] | None = None,
        tamper: bool = False,
        truncate: bool = False,
        signatures: str | None = None,
    ) -> Served:
        """Serve `bundle` on the channel; `tamper` flips a byte after signing and hashing."""
        body = bundle.to_bytes()
        header = signatures
        if header is None:
            header = ",".join(s.header(body) for s in (signers or [self.signer]))
        if tamper:
            body = body.replace(b"sex", b"sez", 1)
        version = bundle.policy.version
        self.served = Served(body, bundle.sha256, version, header, truncate)
        return self.served

    def _handler(self):
        fleet = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fleet.requests.append({"path": self.path, **dict(self.headers.items())})
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._json(401, {"message": "unknown fleet token"})
                if fleet.delay:
                    time.sleep(fleet.delay)
                if fleet.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", fleet.redirect_to)
                    self.send_header("Content-Length", "0")
                    return self.end_headers()
                if fleet.fail_with:
                    return self._json(fleet.fail_with, {"message": "the server failed"})
                # The contract's documented paths (docs/fleet.md), as the agent builds them.
                if self.path == "/api/v1/fleet/keys":
                    return self._json(200, {"keys": [fleet.key_entry()]})
                prefix = "/api/v1/fleet/policies/default/versions/"
                if self.path.startswith(prefix) and self.path.endswith("/bundle"):
                    number = int(self.path[len(prefix) : -len("/bundle")])
                    return self._bundle(fleet.versions.get(number), shadow=False)
                if self.path != "/api/v1/fleet/policies/default/channels/production/bundle":
                    return self._json(404, {"message": "no such policy"})
                self._bundle(fleet.served)

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fleet.reports.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def _shadow_headers(self, shadow: bool):
                if shadow and fleet.shadow is not None:
                    version, sha256, rate = fleet.shadow
                    self.send_header("X-Shadow-Version", str(version))
                    self.send_header("X-Shadow-Sha256", sha256)
                    self.send_header("X-Shadow-Rate", f"{rate:g}")

            def _bundle(self, served: Served | None, shadow: bool = True):
                if served is None:
                    return self._json(404, {"message": "nothing published on this channel"})
                etag = f'"{served.sha256}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self._shadow_headers(shadow)
                    return self.end_headers()
                self.send_response(200)
                self.send_header("ETag", etag)
                self._shadow_headers(shadow)
                self.send_header("X-Bundle-Version", str(served.version))
                self.send_header("X-Bundle-Sha256", served.sha256)
                self.send_header("X-Bundle-Signatures", served.signatures)
                self.send_header("Content-Length", str(len(served.body)))
                self.end_headers()
                fleet.bodies_sent += 1
                self.wfile.write(
                    served.body[: len(served.body) // 2] if served.truncate else served.body
                )
                if served.truncate:
                    self.close_connection = True

            def _json(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def key_entry(self) -> dict:
        return {"kid": self.signer.kid, "alg": "Ed25519", "public_key": self.signer.public_b64(),
                "status": "active"}  # fmt: skip


@pytest.fixture
def signer() -> Signer:
    return Signer("k1")


@pytest.fixture
def fleet(signer):
    server = FakeFleet(signer)
    yield server
    server.close()


@pytest.fixture
def models() -> FakeModels:
    return FakeModels()


@pytest.fixture
def make_agent(fleet, signer, models, tmp_path):
    """Return a factory of agents on the fake fleet; each shares tmp_path/state unless told."""

    def build(*, state=None, trusted=None, tenant="acme", timeout=2.0, server=None):
        return FleetAgent(
            client=FleetClient(server or fleet.url, TOKEN, timeout=timeout),
            keys=TrustedKeys(trusted or {signer.kid: signer.public_raw()}),
            scope=Scope("default", "production", tenant),
            store=StateStore(state or tmp_path / "state"),
            models=models,
            instance_id="gpu-7",
            labels={"region": "eu"},
            heartbeat_every=3,
        )

    return build
