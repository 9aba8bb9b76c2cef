"""The draft's custom classifiers as bundle rules: each pinned version's weights and pins.

A version is only usable where the models it was trained on are the ones
loaded: its feature pins go into the bundle, so the fleet refuses the bundle
where they differ, and the builder refuses (publishing) or leaves out (a
draft test) a version whose pins this process cannot satisfy.
"""

import numpy as np

from kernel.errors import ApplicationError
from moderation.engine.bundle.types import Classifier
from moderation.engine.decision import Action
from moderation.engine.models.base import ModelPin
from policy_admin.models import CustomClassifier
from tenants.scoping import scoped


def classifier_rules(policy, models, pins: dict, dims: dict, strict: bool, warnings: list):
    """The engine rules of the draft's classifiers; adds their pins and dims to `pins`/`dims`."""
    rows = scoped(CustomClassifier, policy.tenant).filter(policy=policy).select_related("version")
    loaded = models.pins()
    rules = []
    for row in rows:
        problem = _problem(row, loaded)
        if problem:
            if strict and row.version_id:
                raise ApplicationError(problem)
            warnings.append(problem + " It was left out of this bundle.")
            continue
        rules.append(_rule(row, pins, dims))
    return rules


def _problem(row: CustomClassifier, loaded: dict[str, ModelPin]) -> str:
    if row.version_id is None:
        return f"Classifier “{row.name}” has no version in use yet; train it and use a version."
    for pin in _pins(row.version.feature_pins):
        have = loaded.get(pin.name)
        if have != pin:
            now = f"this server has {have.version!r}" if have else "it is not loaded here"
            return (
                f"Classifier “{row.name}” v{row.version.number} was trained on model "
                f"{pin.name!r} {pin.version!r} (sha256 {pin.sha256[:12]}…), but {now}. "
                "Train it again with the models this server has."
            )
    return ""


def _pins(feature_pins: dict) -> list[ModelPin]:
    encoder = feature_pins["encoder"]
    found = [ModelPin(encoder["name"], encoder["version"], encoder["sha256"])]
    found += [ModelPin.from_dict(p) for p in feature_pins.get("output_models", {}).values()]
    return found


def _rule(row: CustomClassifier, pins: dict, dims: dict) -> Classifier:
    version = row.version
    feature_pins, coefficients = version.feature_pins, version.coefficients
    for pin in _pins(feature_pins):
        pins[pin.name] = pin
    encoder = feature_pins["encoder"]
    dims[encoder["name"]] = encoder["dim"]
    scaler, calibration = coefficients["scaler"], coefficients["calibration"]
    return Classifier(
        id=f"classifier:{row.pk}",
        name=row.name,
        action=Action(row.action),
        target=version.target,
        threshold=row.threshold,
        version=version.number,
        encoder=encoder["name"],
        outputs=tuple(feature_pins.get("outputs", ())),
        weights=np.asarray(coefficients["weights"], dtype=np.float32),
        bias=float(coefficients["bias"]),
        mean=np.asarray(scaler["mean"], dtype=np.float32),
        scale=np.asarray(scaler["scale"], dtype=np.float32),
        platt_a=float(calibration["a"]),
        platt_b=float(calibration["b"]),
    )
