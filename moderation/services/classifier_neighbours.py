"""The training samples nearest a live test's input, for each trained classifier that scored it.

Nearest by cosine on the classifier's encoder vector (the features it was trained
on, before the model outputs), among the training set stored on its version
(`sample_ids`, `sample_labels`): the k nearest positives and the k nearest
negatives. Vectors come from the vector cache (kernel/vectors), so a training's
samples are encoded only when the cache lost them. This runs in the worker, beside
the engine, which stays free of it: the result holds sample ids and similarities,
and the page resolves the ids in the run's tenant.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np

from kernel.vectors import image_vectors, text_vectors
from moderation.engine.errors import EngineError
from moderation.engine.images import load_image
from moderation.models import Sample
from policy_admin.models import ClassifierVersion
from tenants.scoping import scoped

log = logging.getLogger(__name__)

NEAREST = 3
# Training sets of recently explained versions (immutable), kept per worker process.
_MEMO_SIZE = 4
_memo: OrderedDict[tuple, tuple[list[int], np.ndarray, np.ndarray]] = OrderedDict()


def nearest_samples(*, tenant, decisions: list[dict], inputs: list, registry) -> list[dict]:
    """Per decision, {rule_id: {"positive": [...], "negative": [...]}} of {sample, similarity}.

    `inputs[i]` is (prompt, image sha256, loaded image) of decision i. A classifier
    whose version is gone, or was trained on an encoder this worker has not loaded,
    gets {"note": why} instead.
    """
    versions = _versions(tenant, decisions)
    out = []
    for decision, (prompt, digest, image) in zip(decisions, inputs, strict=True):
        found = {}
        for rule in decision["results"]:
            if rule["kind"] != "classifier" or "skipped" in rule["explanation"]:
                continue
            version = versions.get((rule["rule_id"], rule["explanation"].get("version")))
            if version is None:
                found[rule["rule_id"]] = {"note": "its version is no longer stored"}
                continue
            try:
                found[rule["rule_id"]] = _explain(tenant, version, prompt, digest, image, registry)
            except (OSError, ValueError, EngineError) as error:
                # The judgement stands without its neighbours: say why they are missing.
                log.warning("no neighbours for %s v%s: %s", rule["rule_id"], version.number, error)
                found[rule["rule_id"]] = {
                    "note": f"its training samples could not be read ({error})"
                }
        out.append(found)
    return out


def _versions(tenant, decisions) -> dict[tuple[str, int], ClassifierVersion]:
    wanted = {
        (r["rule_id"], r["explanation"].get("version"))
        for d in decisions
        for r in d["results"]
        if r["kind"] == "classifier" and r["rule_id"].startswith("classifier:")
    }
    ids = {int(rule_id.split(":", 1)[1]) for rule_id, _ in wanted}
    rows = scoped(ClassifierVersion, tenant).filter(classifier_id__in=ids)
    return {
        (f"classifier:{v.classifier_id}", v.number): v
        for v in rows.defer("coefficients", "metrics")
        if (f"classifier:{v.classifier_id}", v.number) in wanted
    }


def _explain(tenant, version, prompt, digest, image, registry) -> dict:
    prompt_target = version.target == "prompt"
    encoder = registry.text_encoder() if prompt_target else registry.image_encoder()
    pin = version.feature_pins["encoder"]
    if encoder.pin.sha256 != pin["sha256"]:
        return {
            "note": f"it was trained on encoder {pin['name']}, which this worker has not loaded"
        }
    if prompt_target:
        query = text_vectors(encoder, [prompt])
    else:
        query = image_vectors(encoder, [digest], lambda _i: image)
    ids, labels, matrix = _training_set(tenant, version, encoder)
    if not ids:
        return {"note": "its training samples are no longer stored"}
    similarity = matrix @ _unit(query)[0].astype(np.float32)
    return {
        side: _top(ids, similarity, labels == value)
        for side, value in (("positive", 1), ("negative", 0))
    }


def _top(ids: list[int], similarity: np.ndarray, mask: np.ndarray) -> list[dict]:
    rows = np.flatnonzero(mask)
    best = rows[np.argsort(-similarity[rows], kind="stable")[:NEAREST]]
    return [{"sample": ids[r], "similarity": round(float(similarity[r]), 4)} for r in best]


def _training_set(tenant, version, encoder) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(sample ids, labels, unit vectors) of the version's training samples still stored."""
    key = (version.pk, version.samples_sha256, encoder.pin.sha256)
    if key in _memo:
        _memo.move_to_end(key)
        return _memo[key]
    label_of = dict(zip(version.sample_ids, version.sample_labels, strict=True))
    rows = scoped(Sample, tenant).filter(pk__in=version.sample_ids).order_by("pk")
    samples = list(rows.only("pk", "prompt", "image", "image_sha256"))
    if version.target == "prompt":
        vectors = text_vectors(encoder, [s.prompt for s in samples])
    else:
        vectors = image_vectors(
            encoder, [s.image_sha256 for s in samples], lambda i: _open(samples[i])
        )
    entry = (
        [s.pk for s in samples],
        np.array([label_of[s.pk] for s in samples], dtype=np.int8),
        _unit(vectors).astype(np.float32),  # 50k samples of 384 dimensions: 77 MB
    )
    _memo[key] = entry
    while len(_memo) > _MEMO_SIZE:
        _memo.popitem(last=False)
    return entry


def _open(sample: Sample):
    with sample.image.open("rb") as handle:
        return load_image(handle.read(), name=sample.image.name)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
