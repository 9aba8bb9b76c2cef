"""The shape of a policy YAML, declared once: which keys each mapping holds and their types."""

from dataclasses import dataclass, field
from typing import Any

from moderation.engine.match_options import OPTION_SPECS, OptionSpec
from policy_admin.models import AppliesTo, ClipConcept
from policy_admin.models.rules import RULE_ACTIONS
from policy_admin.policy_yaml.problems import Problem, join

ACTIONS = tuple(value for value, _ in RULE_ACTIONS)


@dataclass(frozen=True)
class Field:
    """One key of a mapping: its type, whether it must be there, its default and its limits."""

    kind: str  # "string", "boolean", "number", "integer", "list", "mapping"
    required: bool = False
    default: Any = None
    choices: tuple = ()
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    item: str = ""  # for lists: the type of every item
    fields: dict = field(default_factory=dict)  # for mappings: their own fields


def text(max_length: int | None = None, **kwargs) -> Field:
    return Field("string", default="", max_length=max_length, **kwargs)


def score(default: float | None = None) -> Field:
    required = default is None
    return Field("number", required=required, default=default, minimum=0.0, maximum=1.0)


def choice(choices, default) -> Field:
    return Field("string", default=default, choices=tuple(choices))


def strings(max_length: int, **kwargs) -> Field:
    return Field("list", default=(), item="string", max_length=max_length, **kwargs)


def mappings(max_length: int) -> Field:
    return Field("list", default=(), item="mapping", max_length=max_length)


def match_option(spec: OptionSpec) -> Field:
    """The YAML field of one of the engine's match options, defaulting as the engine does."""
    if spec.choices:
        return choice(spec.choices, spec.default)
    return Field("boolean", default=spec.default)


# A keyword set's `options` mapping: a key per option of the engine's MatchOptions.
KEYWORD_OPTIONS = {spec.name: match_option(spec) for spec in OPTION_SPECS}

_TYPE_NAMES = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    list: "a list",
    dict: "a mapping",
    type(None): "nothing (null)",
}


def type_name(value) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _is(kind: str, value) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    expected = {"string": str, "boolean": bool, "list": list, "mapping": dict}[kind]
    return isinstance(value, expected)


_KIND_WORDS = {
    "string": "a string",
    "boolean": "true or false",
    "number": "a number",
    "integer": "a whole number",
    "list": "a list",
    "mapping": "a mapping (key: value lines)",
}


def check_value(value, spec: Field, path: str, problems: list[Problem]) -> bool:
    """True when `value` has the field's type and is within its limits; else a Problem."""
    if not _is(spec.kind, value):
        hint = " (put it in quotes)" if spec.kind == "string" and value is not None else ""
        problems.append(
            Problem(path, f"expected {_KIND_WORDS[spec.kind]}, got {type_name(value)}{hint}")
        )
        return False
    if spec.choices and value not in spec.choices:
        known = ", ".join(spec.choices)
        problems.append(Problem(path, f"{value!r} is not one of: {known}"))
        return False
    return _within_limits(value, spec, path, problems)


def _within_limits(value, spec: Field, path: str, problems: list[Problem]) -> bool:
    if spec.kind in ("number", "integer"):
        low, high = spec.minimum, spec.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            problems.append(Problem(path, f"{value} is out of range: use {low:g} to {high:g}"))
            return False
    elif spec.max_length is not None and len(value) > spec.max_length:
        unit = "characters" if spec.kind == "string" else "entries"
        problems.append(
            Problem(path, f"{len(value):,} {unit}; at most {spec.max_length:,} allowed")
        )
        return False
    return True


def check_mapping(value, fields: dict, path: str, problems: list[Problem]) -> dict | None:
    """The mapping with defaults filled in, or None when it is not a mapping.

    Every unknown key, missing required key and wrong value is reported; the
    result holds only the keys whose values are valid.
    """
    if not isinstance(value, dict):
        problems.append(
            Problem(
                path or "(top)", f"expected a mapping (key: value lines), got {type_name(value)}"
            )
        )
        return None
    for key in value:
        if key not in fields:
            known = ", ".join(fields)
            problems.append(Problem(join(path, str(key)), f"unknown field; known here: {known}"))
    clean = {}
    for key, spec in fields.items():
        where = join(path, key)
        if key not in value:
            if spec.required:
                problems.append(Problem(where, "missing; this field is required"))
            else:
                clean[key] = _default(spec, where, problems)
            continue
        if check_value(value[key], spec, where, problems):
            clean[key] = _typed_items(value[key], spec, where, problems)
    return clean


def _default(spec: Field, path: str, problems: list[Problem]):
    if spec.kind == "mapping":
        return check_mapping({}, spec.fields, path, problems)
    return list(spec.default) if isinstance(spec.default, tuple) else spec.default


def _typed_items(value, spec: Field, path: str, problems: list[Problem]):
    if spec.kind == "mapping":
        return check_mapping(value, spec.fields, path, problems)
    if spec.kind == "number":
        return float(value)
    if spec.kind != "list" or not spec.item:
        return value
    item = Field(spec.item)
    good = [check_value(v, item, join(path, i), problems) for i, v in enumerate(value)]
    # A wrong item stays as None so that later paths keep their indexes.
    return value if all(good) else [v if ok else None for v, ok in zip(value, good, strict=True)]


THRESHOLD = {
    "category": Field("string", required=True),
    "applies_to": choice(AppliesTo.values, AppliesTo.BOTH.value),
    "review_at": score(),
    "block_at": score(),
    "enabled": Field("boolean", default=True),
}
EMBEDDING_SCALARS = {
    "name": text(120, required=True),
    "action": choice(ACTIONS, "review"),
    "threshold": score(0.6),
}
CONCEPT_SCALARS = {
    "name": text(120, required=True),
    "action": choice(ACTIONS, "review"),
    "method": choice(ClipConcept.Method.values, ClipConcept.Method.PROTOTYPE.value),
    "threshold": score(0.5),
}
# A classifier rule names a classifier of the policy (trained on its page) and pins one of
# its versions by number; a classifier the file leaves out is left out of bundles.
CLASSIFIER = {
    "name": text(120, required=True),
    "version": Field("integer", required=True, minimum=1, maximum=2**31),
    "threshold": score(0.5),
    "action": choice(ACTIONS, "review"),
}
IMAGE = {
    "sha256": Field("string", required=True),
    "filename": text(255, required=True),
    "polarity": choice(("positive", "negative"), "positive"),
}
