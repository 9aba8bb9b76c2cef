"""Canonical bytes of a bundle, and the strict parser that refuses anything else."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import numpy as np

from moderation.engine.bundle import fields as f
from moderation.engine.bundle.classifier_codec import (
    classifier_dict,
    classifier_from_dict,
    encoder_name,
    pinned_outputs,
)
from moderation.engine.bundle.condition_codec import condition_dict, conditions_from_list
from moderation.engine.bundle.sampling import sampling_from_dict, sampling_to_dict
from moderation.engine.bundle.text_targets import check_ocr_pinned, text_target, with_target
from moderation.engine.bundle.types import (
    SPEC_VERSION,
    Bundle,
    CategoryOutputs,
    CategoryThreshold,
    Concept,
    EmbeddingSet,
    KeywordSet,
    PolicyInfo,
)
from moderation.engine.decision import ACTIONS, Action
from moderation.engine.errors import BundleError
from moderation.engine.match_options import OPTION_SPECS, MatchOptions, OptionSpec
from moderation.engine.models.base import ModelPin

MAX_TERMS = 200_000
MAX_TERM_CHARS = 200
MAX_PHRASE_CHARS = 1_000
MAX_RULES = 10_000
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
_MODEL_NAME_RE = re.compile(r"^[a-z0-9_\-]{1,64}$")
_TOP = ("spec", "policy", "models", "categories", "thresholds")
_RULE_LISTS = ("keyword_sets", "embedding_sets", "concepts", "classifiers")
_OPTIONAL = (*_RULE_LISTS, "sampling", "failure_mode", "conditions")
FAILURE_MODES = ("closed", "open")


def bundle_to_dict(bundle: Bundle) -> dict[str, Any]:
    """Return the JSON-shaped form of a bundle (vectors as base64 objects)."""
    data = {
        "spec": bundle.spec,
        "policy": vars(bundle.policy).copy(),
        "models": {
            name: {**pin.as_dict(), "dim": bundle.dims.get(name)}
            for name, pin in bundle.pins.items()
        },
        "categories": {
            cid: {"prompt": list(o.prompt), "image": list(o.image)}
            for cid, o in bundle.category_outputs.items()
        },
        "thresholds": [vars(t).copy() for t in bundle.thresholds],
        "keyword_sets": [_keyword_set_dict(k) for k in bundle.keyword_sets],
        "embedding_sets": [_embedding_set_dict(e) for e in bundle.embedding_sets],
        "concepts": [_concept_dict(c) for c in bundle.concepts],
    }
    # Left out when absent, so a bundle published before sampling existed re-encodes
    # to the same canonical bytes (same digest, same signature).
    if bundle.sampling is not None:
        data["sampling"] = sampling_to_dict(bundle.sampling)
    # Left out when empty, so a bundle published before classifiers existed
    # re-encodes to the same canonical bytes.
    if bundle.classifiers:
        data["classifiers"] = [classifier_dict(c) for c in bundle.classifiers]
    if bundle.failure_mode != FAILURE_MODES[0]:
        data["failure_mode"] = bundle.failure_mode
    if bundle.conditions:  # left out when empty: older bundles keep their bytes
        data["conditions"] = [condition_dict(c) for c in bundle.conditions]
    return data


def _keyword_set_dict(ks: KeywordSet) -> dict[str, Any]:
    return with_target(ks.applies_to, {
        "id": ks.id,
        "name": ks.name,
        "action": ks.action.value,
        "terms": list(ks.terms),
        "allow": list(ks.allow),
        "options": _options_dict(ks.options),
    })  # fmt: skip


def _options_dict(options: MatchOptions) -> dict[str, Any]:
    # An option at its `absent` value is left out, so a bundle published before
    # the option existed re-encodes to the same canonical bytes.
    return {
        spec.name: getattr(options, spec.name)
        for spec in OPTION_SPECS
        if spec.absent is None or getattr(options, spec.name) != spec.absent
    }


def _embedding_set_dict(es: EmbeddingSet) -> dict[str, Any]:
    counters = es.counter_vectors
    if counters is None:
        counters = np.zeros((0, np.shape(es.example_vectors)[-1]), dtype=np.float32)
    return with_target(es.applies_to, {
        "id": es.id,
        "name": es.name,
        "action": es.action.value,
        "threshold": es.threshold,
        "encoder": es.encoder,
        "examples": list(es.examples),
        "example_vectors": f.encode_vectors(es.example_vectors),
        "counter_examples": list(es.counter_examples),
        "counter_vectors": f.encode_vectors(counters),
    })  # fmt: skip


def _concept_dict(c: Concept) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "action": c.action.value,
        "method": c.method,
        "threshold": c.threshold,
        "encoder": c.encoder,
        "vector": f.encode_vectors(c.vector),
        "bias": c.bias,
    }


def canonical_json(data: Any) -> bytes:
    """Return sorted-key, whitespace-free UTF-8 JSON; NaN and infinities are refused."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def bundle_to_bytes(bundle: Bundle) -> bytes:
    """Return the canonical bytes of a (validated) bundle."""
    return canonical_json(bundle_to_dict(bundle))


def bundle_from_bytes(data: bytes) -> Bundle:
    """Parse and validate canonical bundle bytes; non-canonical bytes are refused."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BundleError("", f"expected bundle bytes, got {type(data).__name__}")
    try:
        raw = json.loads(bytes(data).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BundleError("", f"not UTF-8 at byte {exc.start}; bundles are UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise BundleError("", f"not valid JSON: {exc.msg} at byte {exc.pos}") from None
    bundle = bundle_from_dict(raw)
    if bundle.to_bytes() != bytes(data):
        raise BundleError(
            "",
            "not in canonical form (key order, spacing or number format differ); "
            "re-serialise it with Bundle.to_bytes()",
        )
    return bundle


def bundle_from_dict(raw: Any) -> Bundle:
    """Validate JSON-shaped bundle data strictly and return the typed bundle."""
    top = f.obj(raw, "", _TOP, _OPTIONAL)
    if top["spec"] != SPEC_VERSION:
        raise BundleError("spec", f"unsupported spec {top['spec']!r}; this engine reads '1'")
    pins, dims = _models(top["models"])
    categories = _categories(top["categories"], pins)
    bundle = Bundle(
        policy=_policy(top["policy"]),
        pins=pins,
        dims=dims,
        category_outputs=categories,
        thresholds=tuple(_each(top["thresholds"], "thresholds", _threshold, categories)),
        keyword_sets=tuple(_each(top.get("keyword_sets", []), "keyword_sets", _keyword_set)),
        embedding_sets=tuple(
            _each(top.get("embedding_sets", []), "embedding_sets", _embedding_set, dims)
        ),
        concepts=tuple(_each(top.get("concepts", []), "concepts", _concept, dims)),
        sampling=sampling_from_dict(top["sampling"]) if "sampling" in top else None,
        classifiers=tuple(
            _each(top.get("classifiers", []), "classifiers", classifier_from_dict, dims, pins)
        ),
        failure_mode=_failure_mode(top.get("failure_mode", FAILURE_MODES[0])),
    )
    if "conditions" in top:
        conditions = conditions_from_list(top["conditions"], bundle)
        bundle = dataclasses.replace(bundle, conditions=conditions)
    _check_unique_ids(bundle)
    check_ocr_pinned(bundle)
    return bundle


def _failure_mode(raw: Any) -> str:
    if raw not in FAILURE_MODES:
        raise BundleError(
            "failure_mode", f"{raw!r} is not a failure mode; use one of {', '.join(FAILURE_MODES)}"
        )
    return raw


def _each(items: Any, path: str, parse, *context) -> list:
    return [
        parse(item, f"{path}[{i}]", *context)
        for i, item in enumerate(f.array(items, path, max_items=MAX_RULES))
    ]


def _policy(raw: Any) -> PolicyInfo:
    d = f.obj(raw, "policy", ("tenant", "slug", "name", "version", "revision"))
    return PolicyInfo(
        tenant=f.string(d["tenant"], "policy.tenant"),
        slug=f.string(d["slug"], "policy.slug"),
        name=f.string(d["name"], "policy.name"),
        version=f.integer(d["version"], "policy.version", minimum=1, nullable=True),
        revision=f.integer(d["revision"], "policy.revision"),
    )


def _models(raw: Any) -> tuple[dict[str, ModelPin], dict[str, int]]:
    models = f.obj(raw, "models", tuple(raw) if isinstance(raw, dict) else ())
    pins, dims = {}, {}
    for name in sorted(models):
        path = f"models.{name}"
        if not isinstance(name, str) or not _MODEL_NAME_RE.match(name):
            raise BundleError(path, "a model name is lower-case letters, digits, '_' or '-'")
        d = f.obj(models[name], path, ("name", "version", "sha256", "dim"))
        if f.string(d["name"], f"{path}.name") != name:
            raise BundleError(f"{path}.name", f"{d['name']!r} differs from the key {name!r}")
        sha = f.string(d["sha256"], f"{path}.sha256")
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise BundleError(f"{path}.sha256", "expected 64 lower-case hex digits")
        pins[name] = ModelPin(name, f.string(d["version"], f"{path}.version"), sha)
        dim = f.integer(d["dim"], f"{path}.dim", minimum=1, nullable=True)
        if dim is not None:
            dims[name] = dim
    return pins, dims


def _categories(raw: Any, pins: dict[str, ModelPin]) -> dict[str, CategoryOutputs]:
    cats = f.obj(raw, "categories", tuple(raw) if isinstance(raw, dict) else ())
    result = {}
    for cid in sorted(cats):
        path = f"categories.{cid}"
        f.string(cid, path)
        d = f.obj(cats[cid], path, ("prompt", "image"))
        outputs = {m: tuple(pinned_outputs(d[m], f"{path}.{m}", pins)) for m in ("prompt", "image")}
        result[cid] = CategoryOutputs(**outputs)
    return result


def _threshold(raw: Any, path: str, categories: dict) -> CategoryThreshold:
    keys = ("id", "category", "applies_to", "review_at", "block_at", "source")
    d = f.obj(raw, path, keys)
    category = f.string(d["category"], f"{path}.category")
    if category not in categories:
        raise BundleError(f"{path}.category", f"{category!r} has no entry under 'categories'")
    applies_to = f.choice(d["applies_to"], f"{path}.applies_to", ("prompt", "image", "both"))
    t = CategoryThreshold(
        id=f.string(d["id"], f"{path}.id"),
        category=category,
        applies_to=applies_to,
        review_at=f.number(d["review_at"], f"{path}.review_at", 0.0, 1.0, nullable=True),
        block_at=f.number(d["block_at"], f"{path}.block_at", 0.0, 1.0, nullable=True),
        source=f.choice(d["source"], f"{path}.source", ("policy", "floor")),
    )
    _check_threshold(t, path, categories[category])
    return t


def _check_threshold(t: CategoryThreshold, path: str, outputs: CategoryOutputs) -> None:
    if t.review_at is None and t.block_at is None:
        raise BundleError(path, "neither review_at nor block_at is set; set at least one")
    if None not in (t.review_at, t.block_at) and t.review_at > t.block_at:
        raise BundleError(path, f"review_at {t.review_at} is above block_at {t.block_at}")
    for modality in t.modalities():
        if not outputs.for_modality(modality):
            raise BundleError(
                f"{path}.applies_to",
                f"category {t.category!r} has no {modality} outputs "
                f"under 'categories', so it cannot be scored on a {modality}",
            )


def _keyword_set(raw: Any, path: str) -> KeywordSet:
    d = f.obj(raw, path, ("id", "name", "action", "terms", "allow", "options"), ("applies_to",))
    terms = _phrases(d["terms"], f"{path}.terms", MAX_TERMS, MAX_TERM_CHARS, "term")
    if not terms:
        raise BundleError(f"{path}.terms", "no terms; a keyword set needs at least one")
    return KeywordSet(
        id=f.string(d["id"], f"{path}.id"),
        name=f.string(d["name"], f"{path}.name"),
        action=Action(f.choice(d["action"], f"{path}.action", ACTIONS)),
        terms=tuple(terms),
        allow=tuple(_phrases(d["allow"], f"{path}.allow", MAX_TERMS, MAX_TERM_CHARS, "phrase")),
        options=_options(d["options"], f"{path}.options"),
        applies_to=text_target(d, path),
    )


def _phrases(raw: Any, path: str, max_items: int, max_chars: int, what: str) -> list[str]:
    items = f.array(raw, path, max_items=max_items)
    for i, item in enumerate(items):
        if isinstance(item, str) and not item.strip():
            raise BundleError(f"{path}[{i}]", f"empty {what}")
        f.string(item, f"{path}[{i}]", max_chars=max_chars)
        # Control characters never belong in a phrase; NUL in particular joins
        # the prompts of a batch and must not be matchable.
        if _CONTROL_RE.search(item):
            raise BundleError(f"{path}[{i}]", f"{what} holds a control character; remove it")
    return items


def _options(raw: Any, path: str) -> MatchOptions:
    required = tuple(s.name for s in OPTION_SPECS if s.absent is None)
    d = f.obj(raw, path, required, tuple(s.name for s in OPTION_SPECS if s.absent is not None))
    return MatchOptions(
        **{s.name: _option(d.get(s.name, s.absent), f"{path}.{s.name}", s) for s in OPTION_SPECS}
    )


def _option(value: Any, path: str, spec: OptionSpec) -> Any:
    return f.choice(value, path, tuple(spec.choices)) if spec.choices else f.boolean(value, path)


def _embedding_set(raw: Any, path: str, dims: dict[str, int]) -> EmbeddingSet:
    keys = ("id", "name", "action", "threshold", "encoder", "examples", "example_vectors")
    d = f.obj(raw, path, (*keys, "counter_examples", "counter_vectors"), ("applies_to",))
    encoder = encoder_name(d["encoder"], f"{path}.encoder", dims)
    examples = _phrases(
        d["examples"], f"{path}.examples", f.MAX_VECTOR_ROWS, MAX_PHRASE_CHARS, "example"
    )
    counters = _phrases(
        d["counter_examples"],
        f"{path}.counter_examples",
        f.MAX_VECTOR_ROWS,
        MAX_PHRASE_CHARS,
        "counter-example",
    )
    if not examples:
        raise BundleError(f"{path}.examples", "no examples; give at least one phrase")
    vecs = _rows(d["example_vectors"], f"{path}.example_vectors", dims[encoder], len(examples))
    cvecs = _rows(d["counter_vectors"], f"{path}.counter_vectors", dims[encoder], len(counters))
    return EmbeddingSet(
        id=f.string(d["id"], f"{path}.id"),
        name=f.string(d["name"], f"{path}.name"),
        action=Action(f.choice(d["action"], f"{path}.action", ACTIONS)),
        threshold=f.number(d["threshold"], f"{path}.threshold", -1.0, 1.0),
        encoder=encoder,
        examples=tuple(examples),
        example_vectors=vecs,
        counter_examples=tuple(counters),
        counter_vectors=cvecs,
        applies_to=text_target(d, path),
    )


def _rows(raw: Any, path: str, dim: int, count: int) -> np.ndarray:
    matrix = f.vectors(raw, path, dim=dim, ndim=2, unit=True)
    if matrix.shape[0] != count:
        raise BundleError(f"{path}.shape", f"{matrix.shape[0]} rows for {count} phrases")
    return matrix


def _concept(raw: Any, path: str, dims: dict[str, int]) -> Concept:
    keys = ("id", "name", "action", "method", "threshold", "encoder", "vector", "bias")
    d = f.obj(raw, path, keys)
    method = f.choice(d["method"], f"{path}.method", ("prototype", "linear_probe"))
    encoder = encoder_name(d["encoder"], f"{path}.encoder", dims)
    prototype = method == "prototype"
    bias = f.number(d["bias"], f"{path}.bias", -1e6, 1e6)
    if prototype and bias != 0.0:
        raise BundleError(f"{path}.bias", "a prototype concept has no bias; set it to 0")
    return Concept(
        id=f.string(d["id"], f"{path}.id"),
        name=f.string(d["name"], f"{path}.name"),
        action=Action(f.choice(d["action"], f"{path}.action", ACTIONS)),
        method=method,
        # A prototype compares a cosine in [-1, 1]; a probe a probability in [0, 1].
        threshold=f.number(d["threshold"], f"{path}.threshold", -1.0 if prototype else 0.0, 1.0),
        encoder=encoder,
        vector=f.vectors(d["vector"], f"{path}.vector", dim=dims[encoder], ndim=1, unit=prototype),
        bias=bias,
    )


def _check_unique_ids(bundle: Bundle) -> None:
    seen: dict[str, str] = {}
    groups = ("thresholds", *_RULE_LISTS, "conditions")
    for group in groups:
        for i, rule in enumerate(getattr(bundle, group)):
            path = f"{group}[{i}].id"
            if rule.id in seen:
                raise BundleError(path, f"id {rule.id!r} is already used at {seen[rule.id]}")
            seen[rule.id] = path
