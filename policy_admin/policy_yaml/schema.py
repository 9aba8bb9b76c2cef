"""Checking a parsed policy document: every problem, with its path, before anything is written."""

import re

from kernel.errors import ApplicationError
from moderation.engine.match_options import OPTION_NAMES, MatchOptions
from policy_admin.models import (
    ClassifierVersion,
    CustomClassifier,
    FloorCategory,
    Policy,
    TextTarget,
)
from policy_admin.policy_yaml.conditions import MAX_CONDITIONS, check_conditions
from policy_admin.policy_yaml.document import SCHEMA_VERSION
from policy_admin.policy_yaml.fields import (
    ACTIONS,
    CLASSIFIER,
    CONCEPT_SCALARS,
    EMBEDDING_SCALARS,
    IMAGE,
    KEYWORD_OPTIONS,
    THRESHOLD,
    Field,
    check_mapping,
    choice,
    mappings,
    strings,
    text,
)
from policy_admin.policy_yaml.problems import Problem, join
from policy_admin.services.concepts import MAX_IMAGES_PER_CONCEPT
from policy_admin.services.floors import Threshold, floor_violations
from policy_admin.services.rules import MAX_PHRASES, _check_category, _clean_phrases
from policy_admin.services.terms import MAX_TERMS_PER_SET, terms_clean
from tenants.scoping import scoped

MAX_THRESHOLDS = 100
MAX_KEYWORD_SETS = 100
MAX_EMBEDDING_SETS = 100
MAX_CONCEPTS = 100
MAX_CLASSIFIERS = 100
MAX_TERMS_TOTAL = 1_000_000
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

TOP = {
    "version": Field("integer", required=True),
    "policy": Field(
        "mapping",
        required=True,
        fields={
            "name": text(120, required=True),
            "description": text(),
            # What clients do when moderation cannot answer in time (carried in the bundle).
            "failure_mode": choice(Policy.FailureMode.values, Policy.FailureMode.CLOSED.value),
        },
    ),
    "rules": Field(
        "mapping",
        required=True,
        fields={
            "thresholds": mappings(MAX_THRESHOLDS),
            "keywords": mappings(MAX_KEYWORD_SETS),
            "embeddings": mappings(MAX_EMBEDDING_SETS),
            "concepts": mappings(MAX_CONCEPTS),
            # Left out: the draft's classifiers stay as they are (files from before them).
            "classifiers": Field("list", item="mapping", max_length=MAX_CLASSIFIERS),
            "conditions": mappings(MAX_CONDITIONS),
        },
    ),
}
KEYWORD_SET = {
    "name": text(120, required=True),
    "action": choice(ACTIONS, "block"),
    # Which text the set reads: the prompt, the text OCR reads in images, or both.
    "applies_to": choice(TextTarget.values, TextTarget.PROMPT.value),
    "options": Field("mapping", default={}, fields=KEYWORD_OPTIONS),
    "languages": text(120),
    "notes": text(),
    "allow_list": strings(MAX_PHRASES),
    "terms": strings(MAX_TERMS_PER_SET),
}
EMBEDDING_SET = {
    **EMBEDDING_SCALARS,
    "applies_to": choice(TextTarget.values, TextTarget.PROMPT.value),
    "examples": strings(MAX_PHRASES, required=True),
    "counter_examples": strings(MAX_PHRASES),
}
CONCEPT = {
    **CONCEPT_SCALARS,
    "text_hints": strings(MAX_PHRASES),
    "images": mappings(MAX_IMAGES_PER_CONCEPT),
}


def validate(data) -> tuple[dict | None, list[Problem]]:
    """The document with defaults filled in, and every problem found (empty when it is valid)."""
    problems: list[Problem] = []
    total = _count_terms(data)
    if total > MAX_TERMS_TOTAL:
        message = f"{total:,} terms in all; a policy file may hold at most {MAX_TERMS_TOTAL:,}"
        return None, [Problem("rules.keywords", message)]
    document = check_mapping(data, TOP, "", problems)
    if document is None:
        return None, problems
    if document.get("version") not in (None, SCHEMA_VERSION):
        problems.append(
            Problem(
                "version", f"unknown schema version; this platform reads version {SCHEMA_VERSION}"
            )
        )
    rules = document.get("rules") or {}
    checks = {
        "thresholds": _thresholds,
        "keywords": _keyword_sets,
        "embeddings": _embedding_sets,
        "concepts": _concepts,
    }
    for kind, check in checks.items():
        rules[kind] = check(rules.get(kind) or [], join("rules", kind), problems)
    if rules.get("classifiers") is not None:
        entries = _each(rules["classifiers"], CLASSIFIER, join("rules", "classifiers"), problems)
        rules["classifiers"] = [c for _index, _where, c in entries]
    floors = list(FloorCategory.objects.all())
    where = join("rules", "conditions")
    rules["conditions"] = check_conditions(
        rules.get("conditions") or [], rules, where, problems, floors
    )
    return document, problems


def _count_terms(data) -> int:
    try:
        return sum(len(k.get("terms") or ()) for k in data["rules"]["keywords"])
    except (KeyError, TypeError, AttributeError):
        return 0


def _each(items, fields: dict, path: str, problems: list[Problem]):
    """(index, path, clean mapping) of every item that is a mapping, names checked for repeats."""
    seen = {}
    for index, item in enumerate(items):
        if item is None:  # its type is already reported
            continue
        where = join(path, index)
        clean = check_mapping(item, fields, where, problems)
        if clean is None:
            continue
        name = clean.get("name")
        if name is not None and name.casefold() in seen:
            first = join(path, seen[name.casefold()])
            problems.append(Problem(join(where, "name"), f"“{name}” is also the name of {first}"))
        elif name is not None:
            seen[name.casefold()] = index
        yield index, where, clean


def _thresholds(items, path, problems) -> list[dict]:
    floors = list(FloorCategory.objects.all())
    result, seen = [], {}
    for index, where, t in _each(items, THRESHOLD, path, problems):
        if len(t) < len(THRESHOLD):  # a field was wrong: already reported
            continue
        key = (t["category"], t["applies_to"])
        if key in seen:
            problems.append(
                Problem(where, f"{key[0]} ({key[1]}) is also set by {join(path, seen[key])}")
            )
        seen.setdefault(key, index)
        problems.extend(Problem(where, p) for p in _threshold_problems(t, floors))
        result.append(t)
    return result


def _threshold_problems(t: dict, floors) -> list[str]:
    try:
        _check_category(t["category"], t["applies_to"])
    except ApplicationError as error:
        return [error.message]
    if t["review_at"] > t["block_at"]:
        return [
            f"review at {t['review_at']:g} is above block at {t['block_at']:g}; "
            "review must not be above block"
        ]
    return floor_violations(Threshold(**t), floors)


def _keyword_sets(items, path, problems) -> list[dict]:
    result = []
    for _index, where, k in _each(items, KEYWORD_SET, path, problems):
        options = _match_options(k.get("options") or {})
        if "terms" in k:
            k["terms"] = _terms(k["terms"], options, join(where, "terms"), problems)
        if "allow_list" in k:
            k["allow_list"] = _phrases(k["allow_list"], "allow-list entry", where, problems)
        result.append(k)
    return result


def _match_options(options: dict) -> MatchOptions:
    # Only the valid options are in `options` (the others are reported already).
    return MatchOptions(**{name: options[name] for name in OPTION_NAMES if name in options})


def _terms(terms: list, options: MatchOptions, path: str, problems: list[Problem]) -> list[str]:
    """The set's terms, checked with its own match options, as the editor checks them."""
    numbered = ((i, t) for i, t in enumerate(terms) if t is not None)
    report = terms_clean(numbered, casefold=options.casefold, options=options)
    problems.extend(Problem(join(path, p.line), p.reason) for p in report.problems)
    problems.extend(_duplicate_problem(d, path) for d in report.duplicate_terms)
    unlisted = report.problem_count - len(report.problems)
    if unlisted:
        problems.append(Problem(path, f"{unlisted:,} more terms refused (not listed)"))
    return report.terms


def _duplicate_problem(duplicate, path: str) -> Problem:
    first = join(path, duplicate.kept_line)
    same = "the same term as" if duplicate.term == duplicate.kept else "reads as"
    return Problem(
        join(path, duplicate.line),
        f"\u201c{duplicate.term}\u201d {same} \u201c{duplicate.kept}\u201d ({first}) "
        "with this set's match options; remove one of them",
    )


def _phrases(phrases: list, label: str, where: str, problems: list[Problem]) -> list[str]:
    try:
        return _clean_phrases([p for p in phrases if p is not None], label)
    except ApplicationError as error:
        problems.extend(Problem(where, p) for p in error.extra.get("problems", [error.message]))
        return []


def _embedding_sets(items, path, problems) -> list[dict]:
    result = []
    for _index, where, e in _each(items, EMBEDDING_SET, path, problems):
        for key, label in (("examples", "example"), ("counter_examples", "counter-example")):
            if key in e:
                e[key] = _phrases(e[key], label, where, problems)
        if "examples" in e and not e["examples"]:
            problems.append(Problem(join(where, "examples"), "at least one example phrase"))
        result.append(e)
    return result


def _concepts(items, path, problems) -> list[dict]:
    result = []
    for _index, where, c in _each(items, CONCEPT, path, problems):
        if "text_hints" in c:
            c["text_hints"] = _phrases(c["text_hints"], "text hint", where, problems)
        c["images"] = _images(c.get("images") or [], join(where, "images"), problems)
        result.append(c)
    return result


def _images(items, path, problems) -> list[dict]:
    result, seen = [], {}
    for index, where, image in _each(items, IMAGE, path, problems):
        digest = image.get("sha256")
        if digest is None:
            continue
        if not _SHA256.match(digest):
            problems.append(
                Problem(join(where, "sha256"), "not a sha256 (64 lowercase hex digits)")
            )
            continue
        if digest in seen:
            problems.append(Problem(where, f"the same image as {join(path, seen[digest])}"))
            continue
        seen[digest] = index
        result.append(image)
    return result


def classifier_versions(
    policy: Policy | None, entries: list[dict], problems: list[Problem]
) -> list[tuple[CustomClassifier, ClassifierVersion, dict]]:
    """Each entry's classifier of `policy` (by name) and pinned version (by number).

    A classifier is trained on its page, never created by a file: an unknown name
    or version number is a Problem naming it and what the policy has instead.
    """
    known = {}
    if policy is not None and policy.pk:
        rows = scoped(CustomClassifier, policy.tenant).filter(policy=policy)
        known = {c.name.casefold(): c for c in rows.prefetch_related("versions")}
    found = []
    for index, entry in enumerate(entries):
        where = join("rules.classifiers", index)
        if len(entry) < len(CLASSIFIER):  # a field was wrong: already reported
            continue
        classifier = known.get(entry["name"].casefold())
        if classifier is None:
            names = ", ".join(sorted(c.name for c in known.values())) or "none"
            problems.append(Problem(join(where, "name"), (
                f"this policy has no classifier named “{entry['name']}” (its classifiers: "
                f"{names}); create and train it on the policy's classifier page, then import"
            )))  # fmt: skip
            continue
        versions = {v.number: v for v in classifier.versions.all()}
        version = versions.get(entry["version"])
        if version is None:
            numbers = ", ".join(f"v{n}" for n in sorted(versions)) or "none yet"
            problems.append(Problem(join(where, "version"), (
                f"{classifier.name} has no version {entry['version']} (its versions: {numbers}); "
                "train it, or name a version it has"
            )))  # fmt: skip
            continue
        found.append((classifier, version, entry))
    return found
