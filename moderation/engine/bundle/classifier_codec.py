"""The canonical form of a bundle's trained classifiers, and the pinned-name checks rules share."""

from __future__ import annotations

from typing import Any

from moderation.engine.bundle import fields as f
from moderation.engine.bundle.types import Classifier
from moderation.engine.decision import ACTIONS, Action
from moderation.engine.errors import BundleError
from moderation.engine.models.base import ModelPin

MAX_OUTPUTS = 100


def encoder_name(raw: Any, path: str, dims: dict[str, int]) -> str:
    name = f.string(raw, path)
    if name not in dims:
        raise BundleError(path, f"encoder {name!r} is not a pinned model with a 'dim'")
    return name


def pinned_outputs(raw: Any, path: str, pins: dict[str, ModelPin]) -> list[str]:
    names = f.array(raw, path, max_items=MAX_OUTPUTS)
    for i, name in enumerate(names):
        model, _, label = f.string(name, f"{path}[{i}]").partition(".")
        if not label:
            raise BundleError(f"{path}[{i}]", f"{name!r} is not '<model>.<label>'")
        if model not in pins:
            raise BundleError(
                f"{path}[{i}]",
                f"output {name!r} names model {model!r}, which the bundle does "
                "not pin; add the model's pin or drop the output",
            )
    return names


def classifier_dict(c: Classifier) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "action": c.action.value,
        "target": c.target,
        "threshold": c.threshold,
        "version": c.version,
        "encoder": c.encoder,
        "outputs": list(c.outputs),
        "weights": f.encode_vectors(c.weights),
        "bias": c.bias,
        "mean": f.encode_vectors(c.mean),
        "scale": f.encode_vectors(c.scale),
        "platt": [c.platt_a, c.platt_b],
    }


def classifier_from_dict(
    raw: Any, path: str, dims: dict[str, int], pins: dict[str, ModelPin]
) -> Classifier:
    keys = ("id", "name", "action", "target", "threshold", "version", "encoder", "outputs")
    d = f.obj(raw, path, (*keys, "weights", "bias", "mean", "scale", "platt"))
    encoder = encoder_name(d["encoder"], f"{path}.encoder", dims)
    outputs = pinned_outputs(d["outputs"], f"{path}.outputs", pins)
    if len(set(outputs)) != len(outputs):
        raise BundleError(f"{path}.outputs", "an output is listed twice; list each once")
    width = dims[encoder] + len(outputs)
    scale = f.vectors(d["scale"], f"{path}.scale", dim=width, ndim=1, unit=False)
    if (scale <= 0).any():
        raise BundleError(f"{path}.scale", "holds a value <= 0; a scaler's spread is positive")
    platt = f.array(d["platt"], f"{path}.platt", max_items=2)
    if len(platt) != 2:
        raise BundleError(f"{path}.platt", "expected [a, b], the two Platt coefficients")
    return Classifier(
        id=f.string(d["id"], f"{path}.id"),
        name=f.string(d["name"], f"{path}.name"),
        action=Action(f.choice(d["action"], f"{path}.action", ACTIONS)),
        target=f.choice(d["target"], f"{path}.target", ("prompt", "image")),
        threshold=f.number(d["threshold"], f"{path}.threshold", 0.0, 1.0),
        version=f.integer(d["version"], f"{path}.version", minimum=1),
        encoder=encoder,
        outputs=tuple(outputs),
        weights=f.vectors(d["weights"], f"{path}.weights", dim=width, ndim=1, unit=False),
        bias=f.number(d["bias"], f"{path}.bias", -1e6, 1e6),
        mean=f.vectors(d["mean"], f"{path}.mean", dim=width, ndim=1, unit=False),
        scale=scale,
        platt_a=f.number(platt[0], f"{path}.platt[0]", -1e6, 1e6),
        platt_b=f.number(platt[1], f"{path}.platt[1]", -1e6, 1e6),
    )
