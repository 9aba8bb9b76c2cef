"""The agent's small HTTP endpoint: GET /healthz and POST /v1/check (stdlib, one thread each).

- `GET /healthz`: 200 when a bundle is active, else 503; JSON with version, sha256, last
  poll, last error and last refusal.
- `POST /v1/check` with `{"prompt": str|null, "image_base64": str|null}`: the decision as
  JSON, stamped with the bundle's version and sha256; 503 before any bundle is active;
  400 with {"message"} for bad input. Bodies above MAX_REQUEST_BYTES are refused (413).
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from moderation.engine.errors import EngineError, InputError
from moderation.engine.images import ImageError, load_image
from moderation.fleet.agent import FleetAgent, NoActiveBundle
from moderation.fleet.keys import decode_b64

log = logging.getLogger("moderation.fleet.http")

MAX_REQUEST_BYTES = 40 * 1024 * 1024


class BadRequest(Exception):
    """A request the endpoint refuses; carries the HTTP status and a message for people."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    agent: FleetAgent  # set on the subclass made by make_server
    server_version = "moderation-fleet-agent"

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/healthz":
            return self._send(404, {"message": f"no such endpoint {self.path}; try /healthz"})
        health = self.agent.health()
        self._send(200 if health["status"] == "ok" else 503, health)

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/v1/check":
            return self._send(404, {"message": f"no such endpoint {self.path}; try /v1/check"})
        try:
            prompt, image = _parse_check(self._body())
            decision = self.agent.check(prompt=prompt, image=image)
        except BadRequest as exc:
            return self._send(exc.status, {"message": str(exc)})
        except (InputError, ImageError) as exc:
            return self._send(400, {"message": str(exc)})
        except NoActiveBundle as exc:
            return self._send(503, {"message": str(exc)})
        except EngineError as exc:
            log.exception("evaluation failed")
            return self._send(500, {"message": f"evaluation failed: {exc}"})
        self._send(200, decision.as_dict())

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise BadRequest(411, "send a Content-Length header with the JSON body") from None
        if length < 0 or length > MAX_REQUEST_BYTES:
            raise BadRequest(413, f"the request body is over {MAX_REQUEST_BYTES} bytes")
        return self.rfile.read(length)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        log.debug("%s " + format, self.address_string(), *args)


def _parse_check(raw: bytes) -> tuple[str | None, Any]:
    """Return (prompt, decoded image) from the JSON body, or raise BadRequest."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(400, f"the body is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadRequest(400, 'send a JSON object: {"prompt": ..., "image_base64": ...}')
    unknown = sorted(set(data) - {"prompt", "image_base64"})
    if unknown:
        raise BadRequest(400, f"unknown field {unknown[0]!r}; use prompt and image_base64")
    prompt, encoded = data.get("prompt"), data.get("image_base64")
    if prompt is not None and not isinstance(prompt, str):
        raise BadRequest(400, "prompt must be a string")
    if prompt is None and encoded is None:
        raise BadRequest(400, "nothing to check: give a prompt, an image_base64, or both")
    return prompt, _image(encoded)


def _image(encoded: Any) -> Any:
    if encoded is None:
        return None
    if not isinstance(encoded, str):
        raise BadRequest(400, "image_base64 must be a base64 string")
    try:
        raw = decode_b64(encoded)
    except ValueError as exc:
        raise BadRequest(400, f"image_base64: {exc}") from None
    return load_image(raw, name="image_base64")


def make_server(agent: FleetAgent, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Return a threaded server bound to (host, port) answering for `agent`; not started."""
    handler = type("AgentHandler", (_Handler,), {"agent": agent})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    """Start serve_forever in a daemon thread and return it."""
    thread = threading.Thread(
        target=server.serve_forever, args=(0.1,), name="fleet-http", daemon=True
    )
    thread.start()
    return thread
