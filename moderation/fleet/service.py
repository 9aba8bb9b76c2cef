"""The agent's moderation service: a Starlette app served by uvicorn (docs/fleet-agent.md).

- `POST /v1/check` `{"prompt": str|null, "image_base64": str|null, "all_scores": bool,
  "deadline_ms": number}`: the decision as JSON (stamped with the bundle's version and
  sha256), plus `stages` (what each engine stage did), `failure_mode` and `request_id`.
- `POST /v1/check/batch` `{"items": [{"prompt", "image_base64"}, ...], "all_scores",
  "deadline_ms"}` (1 to max_batch_items items): `{"results": [...], ...}` in input order;
  a refused item is named by its index (`items[3]: ...`).
- `GET /healthz`: the agent's health (200 with a bundle, else 503) and the failure mode;
  `GET /readyz`: 200 only when a bundle is active, the workers run and the queue has room;
  `GET /metrics`: Prometheus text (moderation.fleet.metrics).

Errors are `{"message": ...}` (with `reason` for 429 and 503, and the bundle's
`failure_mode` once one is active, for the client library to honour): 400 bad input,
404/405 unknown endpoint or method, 408 a body that does not arrive in time, 413 a body
over max_body_bytes, 429 queue full (Retry-After), 503 no bundle yet or deadline passed.
A request id is taken from X-Request-Id (or made) and answered in the same header.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moderation.engine.errors import EngineError, InputError
from moderation.engine.images import ImageError
from moderation.fleet.agent import FleetAgent, NoActiveBundle
from moderation.fleet.batching import Batcher, BatchSettings, DeadlineExceeded, Overloaded
from moderation.fleet.metrics import ServiceMetrics
from moderation.fleet.requests import (
    BadRequest,
    earliest,
    parse_batch,
    parse_check,
    parse_deadline,
)

log = logging.getLogger("moderation.fleet.http")

_INLINE_BYTES = 64 * 1024  # bodies above this are parsed off the event loop
_REQUEST_ID_CHARS = 128


@dataclass(frozen=True)
class ServiceSettings:
    """The HTTP side's limits; the batcher's are in `batch`."""

    batch: BatchSettings = field(default_factory=BatchSettings)
    max_body_bytes: int = 40 * 1024 * 1024
    max_batch_items: int = 64
    body_timeout_s: float = 10.0  # a body not received in this time is refused (408)


class ModerationService:
    """The ASGI app (`.app`) answering for `agent` through a dynamic batcher."""

    def __init__(self, agent: FleetAgent, settings: ServiceSettings | None = None) -> None:
        self.agent = agent
        self.settings = settings or ServiceSettings()
        self.metrics = ServiceMetrics()
        self.batcher = Batcher(agent, self.settings.batch, self.metrics)
        self.metrics.watch(self.batcher.depths, lambda: self.batcher.in_flight, self._bundle)
        routes = [
            Route("/v1/check", self.check, methods=["POST"]),
            Route("/v1/check/batch", self.check_batch, methods=["POST"]),
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics_endpoint, methods=["GET"]),
        ]
        handlers = {404: self._not_found, 405: self._not_allowed}
        self.app = Starlette(routes=routes, exception_handlers=handlers, lifespan=self._lifespan)

    def start(self) -> None:
        """Start the batch workers (the lifespan does it under uvicorn)."""
        self.batcher.start()

    def stop(self) -> None:
        self.batcher.stop()

    @contextlib.asynccontextmanager
    async def _lifespan(self, app):
        self.start()
        try:
            yield
        finally:
            await run_in_threadpool(self.stop)

    # Endpoints -----------------------------------------------------------------------

    async def check(self, request: Request) -> Response:
        return await self._answer(request, "check", batch=False)

    async def check_batch(self, request: Request) -> Response:
        return await self._answer(request, "batch", batch=True)

    async def healthz(self, request: Request) -> Response:
        health = self.agent.health()
        health["queue"] = {"in_flight": self.batcher.in_flight,
                           "max_queue": self.settings.batch.max_queue}  # fmt: skip
        return JSONResponse(health, status_code=200 if health["status"] == "ok" else 503)

    async def readyz(self, request: Request) -> Response:
        problems = []
        if self.agent.active is None:
            problems.append("no bundle is active yet")
        if not self.batcher.running:
            problems.append("the batch workers are not running")
        if self.batcher.full():
            problems.append("the queue is full")
        if problems:
            return JSONResponse({"ready": False, "message": "; ".join(problems)}, 503)
        return JSONResponse({"ready": True})

    async def metrics_endpoint(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type="text/plain; version=0.0.4")

    # The check path ------------------------------------------------------------------

    async def _answer(self, request: Request, endpoint: str, *, batch: bool) -> Response:
        start = time.perf_counter()
        rid = _request_id(request)
        try:
            body = await self._body(request)
            header_deadline = _header_deadline(request, self.settings.batch.max_deadline_ms)
            if len(body) > _INLINE_BYTES:
                futures = await run_in_threadpool(self._admit, body, batch, rid, header_deadline)
            else:
                futures = self._admit(body, batch, rid, header_deadline)
            outcomes = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        except BadRequest as exc:
            return self._refuse(exc.status, str(exc), exc.reason, rid)
        except (InputError, ImageError) as exc:
            return self._refuse(400, str(exc), "bad_request", rid)
        except NoActiveBundle as exc:
            return self._refuse(503, str(exc), "no_bundle", rid)
        except Overloaded as exc:
            return self._refuse(429, str(exc), "overloaded", rid,
                                {"Retry-After": str(exc.retry_after)})  # fmt: skip
        except DeadlineExceeded as exc:
            return self._refuse(503, str(exc), "deadline", rid)
        except EngineError as exc:
            log.exception("evaluation failed")
            return self._refuse(500, f"evaluation failed: {exc}", "engine_error", rid)
        mode = outcomes[0].active.failure_mode
        results = [{**o.decision.as_dict(), "stages": o.stages} for o in outcomes]
        payload = (
            {"results": results, "failure_mode": mode, "request_id": rid}
            if batch
            else {**results[0], "failure_mode": mode, "request_id": rid}
        )
        self.metrics.request_seconds.labels(endpoint).observe(time.perf_counter() - start)
        return JSONResponse(payload, headers={"X-Request-Id": rid})

    def _admit(self, body: bytes, batch: bool, rid: str, header_deadline: float | None):
        most = self.settings.batch.max_deadline_ms
        parsed = (
            parse_batch(body, self.settings.max_batch_items, most)
            if batch
            else parse_check(body, most)
        )
        deadline = earliest(parsed.deadline_ms, header_deadline)
        ids = [f"{rid}#{i}" for i in range(len(parsed.items))] if batch else [rid]
        return self.batcher.submit(
            parsed.items, request_ids=ids, deadline_ms=deadline, all_scores=parsed.all_scores
        )

    async def _body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                raise BadRequest(400, f"Content-Length {length!r} is not a number") from None
            if declared > limit:
                raise BadRequest(413, _too_large(limit), "too_large")
        chunks: list[bytes] = []
        size = 0

        async def read() -> None:
            nonlocal size
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BadRequest(413, _too_large(limit), "too_large")
                chunks.append(chunk)

        try:
            await asyncio.wait_for(read(), self.settings.body_timeout_s)
        except TimeoutError:
            raise BadRequest(
                408,
                f"the request body did not arrive within {self.settings.body_timeout_s:g} s; "
                "send it at once",
                "slow_body",
            ) from None
        return b"".join(chunks)

    def _refuse(self, status: int, message: str, reason: str, rid: str, headers=None):
        self.metrics.rejections.labels(reason).inc()
        payload: dict[str, Any] = {"message": message, "request_id": rid}
        if status in (429, 503):
            payload["reason"] = reason
        active = self.agent.active
        if active is not None:
            payload["failure_mode"] = active.failure_mode
        return JSONResponse(payload, status, headers={"X-Request-Id": rid, **(headers or {})})

    def _bundle(self) -> dict | None:
        active = self.agent.active
        if active is None:
            return None
        return {"policy": self.agent.scope.policy, "channel": self.agent.scope.channel,
                "sha256": active.sha256, "version": active.version,
                "failure_mode": active.failure_mode}  # fmt: skip

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        paths = "/v1/check, /v1/check/batch, /healthz, /readyz or /metrics"
        return JSONResponse({"message": f"no such endpoint {request.url.path}; try {paths}"}, 404)

    async def _not_allowed(self, request: Request, exc: Exception) -> Response:
        return JSONResponse(
            {"message": f"{request.method} is not allowed on {request.url.path}"}, 405
        )


def _too_large(limit: int) -> str:
    return f"the request body is over {limit} bytes; send large images resized or in parts"


def _request_id(request: Request) -> str:
    given = (request.headers.get("x-request-id") or "").strip()
    if given and len(given) <= _REQUEST_ID_CHARS and given.isprintable():
        return given
    return uuid.uuid4().hex


def _header_deadline(request: Request, maximum: float) -> float | None:
    raw = request.headers.get("x-deadline-ms")
    return None if raw is None else parse_deadline(raw, "the X-Deadline-Ms header", maximum)


def uvicorn_config(app, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    """The uvicorn settings the agent serves with: short keep-alive, bounded headers.

    A slow client only holds a socket and a coroutine, never a worker thread: headers are
    capped at 64 KiB, idle keep-alive connections close after 5 s, and a body that takes
    longer than body_timeout_s is refused with 408.
    """
    options: dict[str, Any] = {
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 64 * 1024,
        "limit_concurrency": 2048,
        "backlog": 2048,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "on",
        "http": "h11",
        "loop": "asyncio",
        **overrides,
    }
    return uvicorn.Config(app, host=host, port=port, **options)


class RunningServer:
    """A uvicorn server on a thread, bound before it starts (port 0: a free one)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, **overrides: Any) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.host, self.port = self.socket.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.server = uvicorn.Server(uvicorn_config(app, host, self.port, **overrides))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True,
            name="fleet-http",
        )  # fmt: skip
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start on {self.url}")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()
