"""The HTTP side of the fleet contract: conditional bundle downloads and status reports.

Every transport failure (unreachable server, timeout, 4xx/5xx, a body cut short or larger
than allowed) becomes `Refused("http_error", ...)` with a message a person can act on.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from moderation.fleet.refusal import Refused

DEFAULT_MAX_BUNDLE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ShadowRef:
    """The shadow a channel names (X-Shadow-Version/-Sha256/-Rate); nothing verified yet."""

    version: int
    sha256: str
    rate: float  # the share of requests to shadow, 0..1


@dataclass(frozen=True)
class Download:
    """A 200 answer: the body and the headers that vouch for it (nothing verified yet)."""

    body: bytes
    sha256: str | None  # X-Bundle-Sha256, or the ETag when that header is missing
    etag: str | None
    version: int | None
    signatures: str | None
    shadow: ShadowRef | None = None


@dataclass(frozen=True)
class NotModified:
    """A 304: the server's current bundle is the one whose ETag the agent sent."""

    etag: str | None
    shadow: ShadowRef | None = None


@dataclass(frozen=True)
class KnownRefused:
    """A 200 for a sha256 the agent already refused: the body was not read."""

    sha256: str
    version: int | None
    shadow: ShadowRef | None = None


def shadow_ref(headers) -> ShadowRef | None:
    """Read the X-Shadow-* headers; None when absent or malformed (no shadow then)."""
    version = _int_or_none(headers.get("X-Shadow-Version"))
    sha256 = (headers.get("X-Shadow-Sha256") or "").strip().lower()
    try:
        rate = float(headers.get("X-Shadow-Rate") or "")
    except ValueError:
        return None
    if version is None or not sha256 or not 0.0 <= rate <= 1.0:
        return None
    return ShadowRef(version, sha256, rate)


class UploadError(Exception):
    """A decision batch the server did not take; `permanent` when resending cannot help."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    @property
    def permanent(self) -> bool:
        """400 and 413: the same bytes would be refused again, so the batch is discarded."""
        return self.status in (400, 413)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Turn every redirect into an HTTPError: following one would send the token elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def strip_etag(value: str | None) -> str | None:
    """Return the sha256 inside an ETag (`"abc"` or `W/"abc"`), lower-case, or None."""
    if not value:
        return None
    value = value.strip()
    value = value.removeprefix("W/")
    return value.strip('"').lower() or None


class FleetClient:
    """Talks to one fleet server with one token; thread-safe (no shared connection state)."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        timeout: float = 10.0,
        max_bundle_bytes: int = DEFAULT_MAX_BUNDLE_BYTES,
    ) -> None:
        if urllib.parse.urlsplit(server).scheme not in ("http", "https"):
            raise ValueError(
                f"the fleet server URL must start with https:// or http://, not {server!r}"
            )
        self.server = server.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.max_bundle_bytes = max_bundle_bytes

    def channel_url(self, policy: str, channel: str) -> str:
        """Return the URL of a channel's current bundle."""
        p, c = urllib.parse.quote(policy, safe=""), urllib.parse.quote(channel, safe="")
        return f"{self.server}/api/v1/fleet/policies/{p}/channels/{c}/bundle"

    def fetch_bundle(
        self, policy: str, channel: str, *, etag: str | None, skip: Collection[str] = ()
    ) -> Download | NotModified | KnownRefused:
        """GET a channel's bundle, conditional on `etag`.

        A 200 whose advertised sha256 is in `skip` comes back as KnownRefused, body unread.
        """
        headers = {"If-None-Match": f'"{etag}"'} if etag else {}
        request = self._request("GET", self.channel_url(policy, channel), headers)
        try:
            with self._open(request) as response:
                return self._read_bundle(response, skip)
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return NotModified(strip_etag(exc.headers.get("ETag")), shadow_ref(exc.headers))
            raise _http_refusal(exc) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _transport_refusal(exc, self.server) from None

    def version_url(self, policy: str, number: int) -> str:
        """Return the URL of one published version's (immutable) bundle."""
        p = urllib.parse.quote(policy, safe="")
        return f"{self.server}/api/v1/fleet/policies/{p}/versions/{int(number)}/bundle"

    def fetch_version(self, policy: str, number: int) -> Download:
        """GET the bundle of version `number` (the shadow's); raises Refused like fetch_bundle."""
        request = self._request("GET", self.version_url(policy, number), {})
        try:
            with self._open(request) as response:
                return self._read_bundle(response, ())
        except urllib.error.HTTPError as exc:
            raise _http_refusal(exc) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _transport_refusal(exc, self.server) from None

    def post_status(self, payload: dict[str, Any]) -> None:
        """POST a status report; raises Refused("http_error") when the server does not take it."""
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        request = self._request("POST", f"{self.server}/api/v1/fleet/status", headers, body)
        try:
            with self._open(request) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise _http_refusal(exc) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _transport_refusal(exc, self.server) from None

    def decisions_url(self, policy: str) -> str:
        """Return the URL decision batches of `policy` are posted to."""
        return (
            f"{self.server}/api/v1/fleet/policies/{urllib.parse.quote(policy, safe='')}/decisions"
        )

    def post_decisions(self, policy: str, body: bytes) -> dict[str, Any]:
        """POST one JSON-encoded decision batch; return the server's answer.

        Raises UploadError: permanent for 400/413 (the batch is at fault), otherwise
        (401/403/404, 5xx, unreachable, timeout) worth retrying later with the same batch id.
        """
        headers = {"Content-Type": "application/json"}
        request = self._request("POST", self.decisions_url(policy), headers, body)
        try:
            with self._open(request) as response:
                answer = json.loads(response.read(1024 * 1024) or b"{}")
        except urllib.error.HTTPError as exc:
            failed = "the server failed; the batch is kept and resent with backoff"
            raise UploadError(_http_refusal(exc, failed).message, status=exc.code) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            text = _transport_text(exc)
            raise UploadError(f"{self.server}: {text}; the batch is kept and resent") from None
        return answer if isinstance(answer, dict) else {}

    def fetch_keys(self) -> list[dict[str, Any]]:
        """GET the server's published public keys (for people to review, never trusted as is)."""
        request = self._request("GET", f"{self.server}/api/v1/fleet/keys", {})
        try:
            with self._open(request) as response:
                data = json.loads(response.read(1024 * 1024))
        except urllib.error.HTTPError as exc:
            raise _http_refusal(exc) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise _transport_refusal(exc, self.server) from None
        return list(data.get("keys", [])) if isinstance(data, dict) else []

    def _open(self, request: urllib.request.Request):
        # The URL's scheme is http(s): checked in __init__.
        return _OPENER.open(request, timeout=self.timeout)

    def _request(self, method: str, url: str, headers: dict, body: bytes | None = None):
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "*/*", **headers}
        # The scheme is http(s): checked in __init__.
        return urllib.request.Request(  # noqa: S310
            url, data=body, headers=headers, method=method
        )

    def _read_bundle(self, response, skip: Collection[str]) -> Download | KnownRefused:
        headers = response.headers
        etag = strip_etag(headers.get("ETag"))
        sha256 = (headers.get("X-Bundle-Sha256") or "").strip().lower() or etag
        version = _int_or_none(headers.get("X-Bundle-Version"))
        shadow = shadow_ref(headers)
        if sha256 and sha256 in skip:
            return KnownRefused(sha256, version, shadow)
        body = self._read_body(response, version, sha256)
        signatures = headers.get("X-Bundle-Signatures")
        return Download(body, sha256, etag, version, signatures, shadow)

    def _read_body(self, response, version: int | None, sha256: str | None) -> bytes:
        where = {"version": version, "sha256": sha256}
        declared = _int_or_none(response.headers.get("Content-Length"))
        chunks, size = [], 0
        while size <= self.max_bundle_bytes:
            chunk = response.read(min(1 << 20, self.max_bundle_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > self.max_bundle_bytes:
            raise Refused(
                "http_error",
                f"the bundle is larger than the {self.max_bundle_bytes} bytes this agent "
                "accepts; raise --max-bundle-bytes if that is expected",
                **where,
            )
        if declared is not None and size != declared:
            raise Refused(
                "http_error",
                f"the download was cut short: {size} of {declared} bytes received; "
                "the agent keeps its bundle and retries",
                **where,
            )
        return b"".join(chunks)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


_FAILED = "the server failed; the agent keeps its bundle and retries with backoff"


def _http_refusal(exc: urllib.error.HTTPError, failed: str = _FAILED) -> Refused:
    try:
        message = json.loads(exc.read(64 * 1024)).get("message")
    except (ValueError, AttributeError, OSError, http.client.HTTPException):
        message = None
    hint = {
        401: "the fleet token is unknown, revoked or expired; issue a new one",
        403: "the fleet token has no scope for this policy or channel",
        404: "the policy or channel does not exist or is not visible to this token",
        400: "the batch breaks the upload contract; it is discarded",
        413: "the batch is over the server's size limit; it is discarded",
    }.get(exc.code, failed)
    if 300 <= exc.code < 400:
        where = exc.headers.get("Location", "?")
        message, hint = None, f"redirect to {where} not followed (it would carry the token)"
    text = f"{message} ({hint})" if message else hint
    return Refused("http_error", f"HTTP {exc.code} from {exc.url}: {text}")


def _transport_refusal(exc: BaseException, server: str) -> Refused:
    text = _transport_text(exc)
    return Refused("http_error", f"{server}: {text}; the agent keeps its bundle and retries")


def _transport_text(exc: BaseException) -> str:
    if isinstance(exc, http.client.IncompleteRead):
        text = f"the download was cut short ({len(exc.partial)} bytes received)"
    elif isinstance(exc, TimeoutError | socket.timeout):
        text = "the server did not answer in time"
    elif isinstance(exc, urllib.error.URLError):
        text = f"cannot reach the server ({exc.reason})"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text
