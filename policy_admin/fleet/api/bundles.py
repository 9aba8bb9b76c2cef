"""Fleet endpoints as plain Django views: Bearer fleet tokens, no sessions, no CSRF.

They are kept off DRF on purpose: a 304 must cost no more than the token
lookup and a cache read, and these views answer the whole fleet every few
seconds. Errors use the API's JSON shape {"message", "extra"}.
"""

import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from kernel.telemetry import BUNDLE_FETCHES
from policy_admin.bundles import signing
from policy_admin.fleet.memory import Served, served_bundle
from policy_admin.fleet.pointers import pointer_get
from policy_admin.fleet.reports import StatusReportError, parse_status_report
from policy_admin.fleet.services import fleet_status_record, fleet_token_authenticate

BUNDLE_TYPE = "application/vnd.moderation.bundle+json"
IMMUTABLE = "public, max-age=31536000, immutable"
MAX_REPORT_BYTES = 256 * 1024


class FleetError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"message": message, "extra": {}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fleet"'
    return response


def fleet_view(view):
    """Authenticate the Bearer token, pass it to `view`, and turn FleetError into JSON."""

    def wrapped(request, *args, **kwargs):
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        token = fleet_token_authenticate(secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            return _error(
                401,
                "Send a valid fleet token as `Authorization: Bearer …`; this one is "
                "unknown, revoked or expired.",
            )
        try:
            return view(request, token, *args, **kwargs)
        except FleetError as error:
            return _error(error.status, error.message)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


def require_scope(token, scope: str) -> None:
    """Refuse (403) a token that lacks `scope`, naming it."""
    if not token.has_scope(scope):
        raise FleetError(
            403,
            f"This fleet token lacks the “{scope}” scope; create a token with it on the "
            "fleet tokens page.",
        )


def _pointer(token, policy_slug: str, channel: str | None, scope: str = "fetch"):
    require_scope(token, scope)
    pointer = pointer_get(tenant_id=token.tenant_id, policy_slug=policy_slug, channel=channel or "")
    if pointer is None:
        raise FleetError(404, f"No policy “{policy_slug}”.")
    if not token.allows(policy_id=pointer.policy_id, channel=channel):
        what = f"policy “{policy_slug}”" + (f", channel “{channel}”" if channel else "")
        raise FleetError(403, f"This fleet token is not scoped to {what}.")
    return pointer


def _etag(sha256: str) -> str:
    return f'"{sha256}"'


def _not_modified(request, sha256: str) -> bool:
    sent = request.headers.get("If-None-Match", "")
    return any(tag.strip() in (_etag(sha256), "*") for tag in sent.split(","))


def _bundle_response(version: Served, cache_control: str) -> HttpResponse:
    BUNDLE_FETCHES.labels(status="200").inc()
    response = HttpResponse(version.body, content_type=BUNDLE_TYPE)
    response["ETag"] = _etag(version.sha256)
    response["X-Bundle-Version"] = str(version.number)
    response["X-Bundle-Sha256"] = version.sha256
    response["X-Bundle-Signatures"] = version.signatures
    response["Cache-Control"] = cache_control
    return response


def _unchanged(sha256: str, cache_control: str) -> HttpResponse:
    BUNDLE_FETCHES.labels(status="304").inc()  # in memory: the 304 stays free of queries
    response = HttpResponse(status=304)
    response["ETag"] = _etag(sha256)
    response["Cache-Control"] = cache_control
    return response


@require_GET
@fleet_view
def channel_bundle(request, token, policy: str, channel: str):
    """The bundle a channel points at; 304 from the cached pointer when the ETag matches."""
    pointer = _pointer(token, policy, channel)
    if pointer.number is None:
        raise FleetError(404, f"Channel “{channel}” of “{policy}” has no published version yet.")
    if _not_modified(request, pointer.sha256):
        return _unchanged(pointer.sha256, "no-cache")
    version = served_bundle(policy_id=pointer.policy_id, number=pointer.number)
    if version is None:  # the policy was deleted after the pointer was cached
        raise FleetError(404, f"No policy “{policy}”.")
    return _bundle_response(version, "no-cache")


@require_GET
@fleet_view
def version_bundle(request, token, policy: str, number: int):
    """One exact version: immutable, cacheable forever."""
    pointer = _pointer(token, policy, None)
    version = served_bundle(policy_id=pointer.policy_id, number=number)
    if version is None:
        raise FleetError(404, f"“{policy}” has no version {number}.")
    if _not_modified(request, version.sha256):
        return _unchanged(version.sha256, IMMUTABLE)
    return _bundle_response(version, IMMUTABLE)


@require_GET
def public_keys(request):
    """The public keys agents pin; no token needed."""
    response = JsonResponse(signing.public_keys())
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_POST
@fleet_view
def status_report(request, token):
    """Store a server's report of what it runs; 204."""
    require_scope(token, "fetch")
    if len(request.body) > MAX_REPORT_BYTES:
        raise FleetError(413, f"A status report is at most {MAX_REPORT_BYTES // 1024} KiB.")
    try:
        report = parse_status_report(json.loads(request.body or b"null"))
    except (ValueError, StatusReportError) as error:
        raise FleetError(400, f"The status report is not valid: {error}") from None
    fleet_status_record(token=token, report=report)
    return HttpResponse(status=204)
