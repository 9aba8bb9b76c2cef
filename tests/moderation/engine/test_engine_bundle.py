"""Bundle canonical bytes, digests and the strict schema."""

import copy
import dataclasses
import json

import numpy as np
import pytest

from moderation.engine.bundle import (
    Bundle,
    Sampling,
    bundle_from_dict,
    bundle_to_dict,
    canonical_json,
)
from moderation.engine.compiled import load_bundle
from moderation.engine.errors import BundleError


def test_same_content_gives_identical_bytes_and_digest(models, bundle_factory):
    first, second = bundle_factory(models), bundle_factory(models)
    assert first.to_bytes() == second.to_bytes()
    assert first.sha256 == second.sha256
    assert len(first.sha256) == 64


def test_bytes_round_trip_exactly(bundle):
    again = Bundle.from_bytes(bundle.to_bytes())
    assert again.to_bytes() == bundle.to_bytes()
    assert again == bundle
    np.testing.assert_array_equal(
        again.embedding_sets[0].example_vectors, bundle.embedding_sets[0].example_vectors
    )


def test_canonical_bytes_are_sorted_compact_json(bundle):
    data = bundle.to_bytes()
    assert b": " not in data
    assert b", " not in data
    assert data == canonical_json(json.loads(data))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("policy", "revision"), 8),
        (("thresholds", 0, "block_at"), 0.81),
        (("keyword_sets", 0, "terms", 0), "sexx"),
        (("keyword_sets", 0, "options", "leetspeak"), False),
        (("embedding_sets", 0, "threshold"), 0.79),
    ],
)
def test_a_changed_field_changes_the_digest(bundle, path, value):
    data = bundle_to_dict(bundle)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert bundle_from_dict(data).sha256 != bundle.sha256


def test_a_changed_vector_changes_the_digest(bundle):
    data = bundle_to_dict(bundle)
    vec = bundle.concepts[0].vector.copy()
    vec[[0, 1]] = vec[[1, 0]]
    data["concepts"][0]["vector"] = vec
    assert bundle_from_dict(data).sha256 != bundle.sha256


def test_non_canonical_bytes_are_refused(bundle):
    pretty = json.dumps(json.loads(bundle.to_bytes()), indent=2).encode()
    with pytest.raises(BundleError, match="canonical"):
        Bundle.from_bytes(pretty)


def test_load_verifies_the_digest(bundle):
    assert load_bundle(bundle.to_bytes(), sha256=bundle.sha256).sha256 == bundle.sha256
    with pytest.raises(BundleError, match="digest mismatch"):
        load_bundle(bundle.to_bytes(), sha256="0" * 64)


@pytest.mark.parametrize("data", [b"", b"{", b"\xff\xfe", b"[]", b'{"spec":"1"}', b"null"])
def test_garbage_bytes_are_refused_clearly(data):
    with pytest.raises(BundleError):
        Bundle.from_bytes(data)


def _broken(bundle, mutate):
    data = copy.deepcopy(bundle_to_dict(bundle))
    mutate(data)
    return data


def _set_vectors(key, array):
    def mutate(d):
        d["embedding_sets"][0][key] = array

    return mutate


NAN_ROWS = np.full((2, 16), np.nan, dtype=np.float32)
SHORT_ROWS = np.ones((2, 15), dtype=np.float32) / np.sqrt(15)
UNNORMALISED = np.ones((2, 16), dtype=np.float32)
ONE_ROW = np.ones((1, 16), dtype=np.float32) / 4


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["keyword_sets"][0]["terms"].append(""),
            r"keyword_sets\[0\]\.terms\[2\]: empty term",
        ),
        (
            lambda d: d["keyword_sets"][0]["terms"].append(7),
            r"keyword_sets\[0\]\.terms\[2\]: expected a string",
        ),
        (
            lambda d: d["keyword_sets"][1].update(regex="a.*"),
            r"keyword_sets\[1\]: unknown field 'regex'",
        ),
        (lambda d: d["keyword_sets"][0].pop("allow"), r"keyword_sets\[0\]: missing field 'allow'"),
        (
            lambda d: d["keyword_sets"][0]["options"].update(mode="regex"),
            r"keyword_sets\[0\]\.options\.mode",
        ),
        (lambda d: d["keyword_sets"][0].update(action="deny"), r"keyword_sets\[0\]\.action"),
        (
            lambda d: d["thresholds"][0].update(review_at=float("nan")),
            r"thresholds\[0\]\.review_at: nan is not a finite",
        ),
        (
            lambda d: d["thresholds"][0].update(review_at=0.9),
            r"thresholds\[0\]: review_at 0.9 is above block_at",
        ),
        (
            lambda d: d["thresholds"][0].update(block_at=True),
            r"thresholds\[0\]\.block_at: expected a number",
        ),
        (
            lambda d: d["thresholds"][0].update(category="gore"),
            r"thresholds\[0\]\.category: 'gore' has no entry",
        ),
        (
            lambda d: d["categories"]["nudity"]["image"].append("foo.bar"),
            r"categories\.nudity\.image\[2\]: .*'foo'",
        ),
        (lambda d: d["policy"].update(version=0), r"policy\.version: 0 is below"),
        (lambda d: d.update(spec="2"), r"spec: unsupported spec '2'"),
        (lambda d: d["models"]["minilm"].update(sha256="xyz"), r"models\.minilm\.sha256"),
        (lambda d: d["embedding_sets"][0].update(encoder="clip2"), r"embedding_sets\[0\]\.encoder"),
        (
            _set_vectors("example_vectors", NAN_ROWS),
            r"embedding_sets\[0\]\.example_vectors: holds NaN",
        ),
        (
            _set_vectors("example_vectors", SHORT_ROWS),
            r"example_vectors\.shape: vectors have 15 dimensions, the model 16",
        ),
        (_set_vectors("example_vectors", UNNORMALISED), r"example_vectors: row 0 has norm 4\.0000"),
        (_set_vectors("example_vectors", ONE_ROW), r"example_vectors\.shape: 1 rows for 2 phrases"),
        (
            lambda d: d["embedding_sets"][0]["example_vectors"].update(data="!!"),
            r"example_vectors\.data: not valid base64",
        ),
        (
            lambda d: d["concepts"][0].update(id="kw-adult"),
            r"concepts\[0\]\.id: id 'kw-adult' is already used at keyword_sets\[0\]\.id",
        ),
        (
            lambda d: d["concepts"][0].update(bias=0.5),
            r"concepts\[0\]\.bias: a prototype concept has no bias",
        ),
    ],
)
def test_schema_errors_name_the_field_path(bundle, mutate, message):
    with pytest.raises(BundleError, match=message):
        bundle_from_dict(_broken(bundle, mutate))


def test_schema_errors_also_apply_to_bytes(bundle):
    data = _broken(bundle, lambda d: d["keyword_sets"][0]["terms"].append(" "))
    with pytest.raises(BundleError, match=r"keyword_sets\[0\]\.terms\[2\]: empty term"):
        Bundle.from_bytes(canonical_json(data))


def test_too_many_terms_are_refused(bundle):
    data = _broken(bundle, lambda d: d["keyword_sets"][0].update(terms=["a"] * 200_001))
    with pytest.raises(BundleError, match="200001 items, more than the 200000 allowed"):
        bundle_from_dict(data)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["categories"]["nudity"]["image"].append("nudenet"),
            "is not '<model>.<label>'",
        ),
        (
            lambda d: d["models"].update({"Bad.Name": d["models"]["clip"]}),
            r"models\.Bad\.Name: a model",
        ),
    ],
)
def test_model_and_output_names_are_checked(bundle, mutate, message):
    with pytest.raises(BundleError, match=message):
        bundle_from_dict(_broken(bundle, mutate))


def test_phrases_with_control_characters_are_refused(bundle):
    data = _broken(bundle, lambda d: d["keyword_sets"][0]["terms"].append("se\x00x"))
    with pytest.raises(BundleError, match=r"terms\[2\]: term holds a control character"):
        bundle_from_dict(data)


def test_a_bundle_without_sampling_keeps_its_bytes(bundle):
    assert bundle.sampling is None
    assert b'"sampling"' not in bundle.to_bytes()
    assert Bundle.from_bytes(bundle.to_bytes()).sampling is None


def test_sampling_round_trips_and_changes_the_digest(bundle):
    sampled = dataclasses.replace(bundle, sampling=Sampling(audit_share=0.05, keep_blocks=True))
    again = Bundle.from_bytes(sampled.to_bytes())
    assert again.sampling == Sampling(True, 60, 0.05, True, 256)
    assert again.sha256 == sampled.sha256 != bundle.sha256
    assert b'"audit_share":0.05' in sampled.to_bytes()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("audit_share", 1.5, "sampling.audit_share.*outside"),
        ("review_per_minute", -1, "sampling.review_per_minute.*below"),
        ("keep_blocks", "yes", "sampling.keep_blocks.*true or false"),
        ("thumbnail_px", 5000, "sampling.thumbnail_px.*above"),
        ("every_flag", True, "sampling.*unknown field 'every_flag'"),
    ],
)
def test_bad_sampling_is_refused_with_its_field(bundle, field, value, message):
    data = bundle_to_dict(dataclasses.replace(bundle, sampling=Sampling()))
    data["sampling"][field] = value
    with pytest.raises(BundleError, match=message):
        bundle_from_dict(data)


def test_failure_mode_defaults_to_closed_and_leaves_the_bytes_alone(bundle, bundle_factory, models):
    assert bundle.failure_mode == "closed"
    assert "failure_mode" not in json.loads(bundle.to_bytes())
    opened = bundle_factory(models, failure_mode="open")
    assert json.loads(opened.to_bytes())["failure_mode"] == "open"
    assert Bundle.from_bytes(opened.to_bytes()).failure_mode == "open"
    assert opened.sha256 != bundle.sha256


def test_an_unknown_failure_mode_is_refused(bundle):
    data = bundle_to_dict(bundle)
    data["failure_mode"] = "sometimes"
    with pytest.raises(BundleError, match="failure_mode: 'sometimes' is not a failure mode"):
        bundle_from_dict(data)
