"""Checking the shape of a status report before it is stored (docs/fleet.md)."""

_REJECTED_KEYS = {"version", "sha256", "reason", "message"}


class StatusReportError(ValueError):
    """The report does not have the documented shape; the message names where."""


def parse_status_report(data) -> dict:
    """The report, checked: instance_id, labels, bundles and models as documented."""
    if not isinstance(data, dict):
        raise StatusReportError("send a JSON object")
    instance = data.get("instance_id")
    if not isinstance(instance, str) or not 0 < len(instance) <= 200:
        raise StatusReportError("instance_id must be a string of 1 to 200 characters")
    labels = data.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise StatusReportError("labels must map strings to strings")
    bundles = data.get("bundles") or []
    if not isinstance(bundles, list):
        raise StatusReportError("bundles must be a list")
    models = data.get("models") or {}
    if not isinstance(models, dict) or not all(isinstance(v, dict) for v in models.values()):
        raise StatusReportError("models must map names to {name, version, sha256}")
    return {
        "instance_id": instance,
        "labels": labels,
        "bundles": [_bundle(b, n) for n, b in enumerate(bundles)],
        "models": models,
    }


def _bundle(entry, n: int) -> dict:
    where = f"bundles[{n}]"
    if not isinstance(entry, dict):
        raise StatusReportError(f"{where} must be an object")
    if not isinstance(entry.get("policy"), str) or not isinstance(entry.get("channel"), str):
        raise StatusReportError(f"{where} needs policy and channel strings")
    _optional(entry, "version", int, where)
    _optional(entry, "sha256", str, where)
    out = {
        "policy": entry["policy"],
        "channel": entry["channel"],
        "version": entry.get("version"),
        "sha256": entry.get("sha256"),
        "last_rejected": _rejected(entry.get("last_rejected"), f"{where}.last_rejected"),
    }
    shadow = entry.get("shadow")
    if shadow is not None:  # the channel's shadow slot (docs/fleet.md, "Shadow mode")
        if not isinstance(shadow, dict):
            raise StatusReportError(f"{where}.shadow must be an object or null")
        _optional(shadow, "version", int, f"{where}.shadow")
        _optional(shadow, "sha256", str, f"{where}.shadow")
        rate = shadow.get("rate")
        if rate is not None and (not isinstance(rate, int | float) or not 0 <= rate <= 1):
            raise StatusReportError(f"{where}.shadow.rate must be a share from 0 to 1 or null")
        out["shadow"] = {
            "version": shadow.get("version"),
            "sha256": shadow.get("sha256"),
            "rate": rate,
            "last_rejected": _rejected(
                shadow.get("last_rejected"), f"{where}.shadow.last_rejected"
            ),
        }
    return out


def _rejected(rejected, where: str) -> dict | None:
    if rejected is None:
        return None
    if not isinstance(rejected, dict) or not isinstance(rejected.get("reason"), str):
        raise StatusReportError(f"{where} needs a reason code")
    _optional(rejected, "version", int, where)
    _optional(rejected, "sha256", str, where)
    return {k: rejected.get(k) for k in _REJECTED_KEYS}


def _optional(entry: dict, key: str, kind: type, where: str) -> None:
    value = entry.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise StatusReportError(f"{where}.{key} must be {kind.__name__} or null")
